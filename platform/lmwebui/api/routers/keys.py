"""/api/api-keys (platform keys for /v1) and /api/providers/{provider}/key (upstream keys)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from lmwebui.api.deps import ApiKeysDep, CurrentUserDep, ProviderKeysDep
from lmwebui.api.responses import errors
from lmwebui.api.schemas import StatusMessage
from lmwebui.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyList
from lmwebui.chat.provider_keys import KEYED_PROVIDERS
from lmwebui.chat.schemas import ProviderKeyIn, ProviderKeyList, ProviderKeySet

router = APIRouter(tags=["keys"], responses=errors(401))
# published: the providers that take a key (the server also accepts any case)
KeyedProvider = Annotated[
    str,
    Path(description="An upstream provider.", json_schema_extra={"enum": sorted(KEYED_PROVIDERS)}),
]


@router.post("/api/api-keys", status_code=201, response_model=ApiKeyCreated, responses=errors(400))
async def create_api_key(
    body: ApiKeyCreate, user: CurrentUserDep, keys: ApiKeysDep
) -> ApiKeyCreated:
    return await keys.create(user.id, body.name)


@router.get("/api/api-keys", response_model=ApiKeyList)
async def list_api_keys(user: CurrentUserDep, keys: ApiKeysDep) -> ApiKeyList:
    return ApiKeyList(keys=await keys.list(user.id))


@router.delete("/api/api-keys/{key_id}", response_model=StatusMessage, responses=errors(404))
async def delete_api_key(key_id: str, user: CurrentUserDep, keys: ApiKeysDep) -> StatusMessage:
    await keys.delete(user.id, key_id)
    return StatusMessage(message="API key deleted")


@router.put("/api/providers/{provider}/key", response_model=ProviderKeySet, responses=errors(400))
async def set_provider_key(
    provider: KeyedProvider, body: ProviderKeyIn, user: CurrentUserDep, keys: ProviderKeysDep
) -> ProviderKeySet:
    return await keys.set(user.id, provider, body.api_key, body.base_url)


@router.get("/api/providers/keys", response_model=ProviderKeyList)
async def list_provider_keys(user: CurrentUserDep, keys: ProviderKeysDep) -> ProviderKeyList:
    return ProviderKeyList(keys=await keys.list(user.id))


@router.delete(
    "/api/providers/{provider}/key", response_model=StatusMessage, responses=errors(400, 404)
)
async def delete_provider_key(
    provider: KeyedProvider, user: CurrentUserDep, keys: ProviderKeysDep
) -> StatusMessage:
    await keys.delete(user.id, provider)
    return StatusMessage(message="Provider key deleted")
