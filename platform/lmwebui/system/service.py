"""SystemService: liveness, readiness of every component, and what the platform runs on."""

from __future__ import annotations

import asyncio
import platform
import sys
from typing import Any

from pydantic import BaseModel, Field

from lmwebui import __version__
from lmwebui.db import Database
from lmwebui.system.cluster import NOT_READY, ClusterView, Probe, run_probes
from lmwebui.system.hardware import hardware_summary


class Health(BaseModel):
    status: str = "healthy"
    auth: str = "jwt"
    encryption: str = "fernet"


class Readiness(BaseModel):
    status: str = Field(description="ready, or starting while a component is not.")
    message: str
    progress: int = Field(description="Percentage of components ready.")
    ready: bool
    error: str | None = Field(
        None, description="What failed: each component that is down and why; null if none."
    )
    components: dict[str, bool] = Field(description="Component name → ready.")


class SystemInfo(BaseModel):
    version: str
    python_version: str
    platform: str
    python_implementation: str
    hardware: dict[str, Any] = Field(description="backend, device, vram_mb, system_ram_mb...")
    database: dict[str, Any] = Field(description="Type and location, never credentials.")
    ray: dict[str, Any] = Field(description="Nodes, CPUs, GPUs, deployments (under Ray).")


class SystemService:
    """``probes``: components outside the cluster's deployments that this app serves through
    (the vLLM app, reached over HTTP), each a readiness probe like the deployments'."""

    def __init__(
        self, db: Database, cluster: ClusterView, probes: dict[str, Probe] | None = None
    ) -> None:
        self.db = db
        self.cluster = cluster
        self.probes = dict(probes or {})

    async def readiness(self) -> Readiness:
        why_not = {"database": None if await self.db.ping() else "database not reachable"}
        cluster, own = await asyncio.gather(self.cluster.readiness(), run_probes(self.probes))
        why_not.update(cluster)
        why_not.update(own)
        components = {name: why is None for name, why in why_not.items()}
        ready_count = sum(components.values())
        ready = ready_count == len(components)
        waiting = sorted(name for name, ok in components.items() if not ok)
        # a component merely starting is not an error; one whose probe fails is
        failed = [f"{name}: {why_not[name]}" for name in waiting if why_not[name] != NOT_READY]
        return Readiness(
            status="ready" if ready else "starting",
            message="System Online" if ready else "Starting: waiting for " + ", ".join(waiting),
            progress=int(100 * ready_count / len(components)),
            ready=ready,
            error="; ".join(failed) or None,
            components=components,
        )

    async def info(self) -> SystemInfo:
        hardware, cluster = await asyncio.gather(
            asyncio.to_thread(hardware_summary), self.cluster.describe()
        )
        return SystemInfo(
            version=__version__,
            python_version=platform.python_version(),
            platform=platform.system(),
            python_implementation=sys.implementation.name,
            hardware=hardware,
            database=self.db.describe(),
            ray=cluster,
        )
