"""/api/chat and /api/chat/stream/start."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter

from lmwebui.api.deps import ChatRateLimit, CurrentUserDep, ServicesDep
from lmwebui.chat.schemas import ChatRequest
from lmwebui.chat.sessions import create_stream_session

router = APIRouter(prefix="/api/chat", tags=["chat"])


@router.post("", dependencies=[ChatRateLimit])
async def chat(body: ChatRequest, user: CurrentUserDep, services: ServicesDep) -> dict[str, Any]:
    final = await services.chat.complete(user, body)
    response: dict[str, Any] = {
        "response": final["content"],
        "conversation_id": final["conversation_id"],
        "tokens_used": final["tokens_used"],
        "processing_time": final["processing_time"],
        "message_id": final["message_id"],
        "model": final["model"],
        "provider": final["provider"],
        "usage": {
            "prompt_tokens": final["prompt_tokens"],
            "completion_tokens": final["completion_tokens"],
            "total_tokens": final["tokens_used"],
        },
    }
    for key in ("reasoning_steps", "raw_response", "citations"):
        if key in final:
            response[key] = final[key]
    return response


@router.post("/stream/start", dependencies=[ChatRateLimit])
async def stream_start(
    body: ChatRequest, user: CurrentUserDep, services: ServicesDep
) -> dict[str, str]:
    """Register the request; a WebSocket on /ws/chat/{session_id} (any replica) runs it."""
    services.chat.validate(body)
    if body.conversation_id:
        await services.chat.store.ensure_access(user.id, body.conversation_id)
    session_id = await create_stream_session(
        services.db, user.id, json.dumps(body.model_dump(mode="json"))
    )
    return {"session_id": session_id, "websocket_url": f"/ws/chat/{session_id}"}
