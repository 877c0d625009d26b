"""/health, /api/health, /api/system/info."""

from __future__ import annotations

import asyncio
import platform
import sys
from typing import Any

from fastapi import APIRouter

from lmwebui import __version__
from lmwebui.api.deps import CurrentUserDep, ServicesDep
from lmwebui.system.hardware import hardware_summary

router = APIRouter(tags=["system"])


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "healthy", "auth": "jwt", "encryption": "fernet"}


@router.get("/api/health")
async def detailed_health(services: ServicesDep) -> dict[str, Any]:
    components = {"database": await services.db.ping()}
    components.update(await services.runtime.cluster.readiness())
    ready_count = sum(components.values())
    progress = int(100 * ready_count / len(components))
    ready = ready_count == len(components)
    waiting = sorted(name for name, ok in components.items() if not ok)
    return {
        "status": "ready" if ready else "starting",
        "message": "System Online" if ready else "Starting: waiting for " + ", ".join(waiting),
        "progress": progress,
        "ready": ready,
        "error": None,
        "components": components,
    }


@router.get("/api/system/info")
async def system_info(services: ServicesDep, _user: CurrentUserDep) -> dict[str, Any]:
    hardware, cluster = await asyncio.gather(
        asyncio.to_thread(hardware_summary), services.runtime.cluster.describe()
    )
    return {
        "version": __version__,
        "python_version": platform.python_version(),
        "platform": platform.system(),
        "python_implementation": sys.implementation.name,
        "hardware": hardware,
        "database": services.db.describe(),
        "ray": cluster,
    }
