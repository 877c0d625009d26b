"""/health, /api/health, /api/system/info."""

from __future__ import annotations

from fastapi import APIRouter

from lmwebui.api.deps import CurrentUserDep, SystemDep
from lmwebui.api.responses import AUTH_ERRORS
from lmwebui.system.service import Health, Readiness, SystemInfo

router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health)
async def health() -> Health:
    return Health()


@router.get("/api/health", response_model=Readiness)
async def detailed_health(system: SystemDep) -> Readiness:
    return await system.readiness()


@router.get("/api/system/info", response_model=SystemInfo, responses=AUTH_ERRORS)
async def system_info(system: SystemDep, _user: CurrentUserDep) -> SystemInfo:
    return await system.info()
