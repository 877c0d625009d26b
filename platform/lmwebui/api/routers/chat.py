"""/api/chat and /api/chat/stream/start."""

from __future__ import annotations

from fastapi import APIRouter

from lmwebui.api.deps import ChatDep, ChatRateLimit, CurrentUserDep
from lmwebui.api.responses import CHAT_ERRORS
from lmwebui.chat.schemas import ChatRequest, ChatResponse, StreamStart

router = APIRouter(prefix="/api/chat", tags=["chat"])


@router.post(
    "",
    dependencies=[ChatRateLimit],
    response_model=ChatResponse,
    responses=CHAT_ERRORS,
)
async def chat(body: ChatRequest, user: CurrentUserDep, chat: ChatDep) -> ChatResponse:
    """One whole turn: the answer once it is complete (stream it over /ws/chat instead)."""
    return ChatResponse.of(await chat.complete(user, body))


@router.post(
    "/stream/start", dependencies=[ChatRateLimit], response_model=StreamStart, responses=CHAT_ERRORS
)
async def stream_start(body: ChatRequest, user: CurrentUserDep, chat: ChatDep) -> StreamStart:
    """Register the request; a WebSocket on /ws/chat/{session_id} (any replica) runs it."""
    session_id = await chat.start_session(user, body)
    return StreamStart(session_id=session_id, websocket_url=f"/ws/chat/{session_id}")
