"""/api/api-keys (platform keys for /v1) and /api/providers/{provider}/key (upstream keys)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from lmwebui.api.deps import CurrentUserDep, ServicesDep

router = APIRouter(tags=["keys"])


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field("default", min_length=1, max_length=100, description="Label.")


class ProviderKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    api_key: str = Field(min_length=8, max_length=500, description="Upstream API key.")
    base_url: str | None = Field(
        None, max_length=500, pattern=r"^https?://", description="OpenAI-compatible base URL."
    )


@router.post("/api/api-keys", status_code=201)
async def create_api_key(
    body: ApiKeyCreate, user: CurrentUserDep, services: ServicesDep
) -> dict[str, Any]:
    return await services.api_keys.create(user.id, body.name)


@router.get("/api/api-keys")
async def list_api_keys(user: CurrentUserDep, services: ServicesDep) -> dict[str, Any]:
    return {"keys": await services.api_keys.list(user.id)}


@router.delete("/api/api-keys/{key_id}")
async def delete_api_key(
    key_id: str, user: CurrentUserDep, services: ServicesDep
) -> dict[str, str]:
    await services.api_keys.delete(user.id, key_id)
    return {"status": "success", "message": "API key deleted"}


@router.put("/api/providers/{provider}/key")
async def set_provider_key(
    provider: str, body: ProviderKeyIn, user: CurrentUserDep, services: ServicesDep
) -> dict[str, Any]:
    return await services.provider_keys.set(user.id, provider, body.api_key, body.base_url)


@router.get("/api/providers/keys")
async def list_provider_keys(user: CurrentUserDep, services: ServicesDep) -> dict[str, Any]:
    return {"keys": await services.provider_keys.list(user.id)}


@router.delete("/api/providers/{provider}/key")
async def delete_provider_key(
    provider: str, user: CurrentUserDep, services: ServicesDep
) -> dict[str, str]:
    await services.provider_keys.delete(user.id, provider)
    return {"status": "success", "message": "Provider key deleted"}
