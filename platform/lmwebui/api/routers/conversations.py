"""/api/conversations: list (paginated), get, delete — always the caller's own."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from lmwebui.api.deps import CurrentUserDep, ServicesDep

router = APIRouter(prefix="/api/conversations", tags=["conversations"])


@router.get("")
async def list_conversations(
    user: CurrentUserDep,
    services: ServicesDep,
    response: Response,
    page: Annotated[int, Query(ge=1, description="Page number.")] = 1,
    limit: Annotated[int, Query(ge=1, le=100, description="Items per page.")] = 20,
) -> dict[str, Any]:
    items, total = await services.chat.store.list(user.id, page, limit)
    response.headers.update(
        {
            "X-Total-Count": str(total),
            "X-Total-Pages": str(max(1, math.ceil(total / limit))),
            "X-Current-Page": str(page),
            "X-Per-Page": str(limit),
        }
    )
    return {"conversations": items}


@router.get("/{conversation_id}")
async def get_conversation(
    conversation_id: str, user: CurrentUserDep, services: ServicesDep
) -> dict[str, Any]:
    return {"conversation": await services.chat.store.get(user.id, conversation_id)}


@router.delete("/{conversation_id}")
async def delete_conversation(
    conversation_id: str, user: CurrentUserDep, services: ServicesDep
) -> dict[str, str]:
    await services.chat.store.delete(user.id, conversation_id)
    return {"status": "success", "message": "Conversation deleted"}
