"""/ws/chat and /ws/chat/{session_id}: streamed chat turns with cancel.

Client frames are JSON ``{action, data}``: ``start_stream`` (data: a ChatRequest),
``cancel_session`` (data: {session_id}) and ``ping``. One turn runs at a time per socket;
cancelling it (or disconnecting) stops generation on the model replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from lmwebui.api.services import Services
from lmwebui.api.ws.connection import POLICY_VIOLATION, EventSocket, accept_socket
from lmwebui.api.ws.frames import FrameError, parse_frame
from lmwebui.auth.service import CurrentUser
from lmwebui.chat.events import Cancelled
from lmwebui.chat.schemas import ChatRequest
from lmwebui.chat.sessions import new_session_id
from lmwebui.errors import AppError, NotFound, ValidationFailed, validation_failed

router = APIRouter()
logger = logging.getLogger("lmwebui.ws.chat")


class ChatSocket(EventSocket):
    """One connection: at most one running turn."""

    def __init__(self, ws: WebSocket, services: Services, user: CurrentUser) -> None:
        super().__init__(ws)
        self.chat = services.chat
        self.limiter = services.limiter
        self.user = user
        self.task: asyncio.Task[None] | None = None
        self.session_id: str | None = None

    def envelope(self) -> dict[str, Any]:
        return {"session_id": self.session_id}

    async def run(self, initial: ChatRequest | None = None, session_id: str | None = None) -> None:
        if initial is not None:
            self.start(initial, session_id or new_session_id())
        try:
            while True:
                await self.handle_frame(await self.ws.receive_text())
        except WebSocketDisconnect:
            pass
        finally:
            await self.stop_turn()

    async def handle_frame(self, text: str) -> None:
        try:
            action, data = parse_frame(text)
            if action == "start_stream":
                await self.on_start(data)
            elif action == "cancel_session":
                await self.on_cancel(data)
            elif action == "ping":
                await self.send({"type": "pong"})
            else:
                raise ValidationFailed(f"Unknown action '{action}'")
        except FrameError as exc:
            await self.error(ValidationFailed(str(exc)), session_id=None)
        except AppError as exc:  # a refused frame belongs to no session
            await self.error(exc, session_id=None)

    async def on_start(self, data: dict[str, Any]) -> None:
        if self.running:
            await self.error(
                ValidationFailed("A stream is already running on this connection; cancel it first")
            )
            return
        try:
            request = ChatRequest.model_validate(data)
        except ValidationError as exc:
            raise validation_failed(exc.errors()) from None
        await self.limiter.check("chat", f"user:{self.user.id}")
        self.start(request, new_session_id())

    def start(self, request: ChatRequest, session_id: str) -> None:
        self.session_id = session_id
        self.task = asyncio.create_task(self.stream(request))

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    async def stream(self, request: ChatRequest) -> None:
        try:
            async for event in self.chat.turn(self.user, request):
                await self.send(event.wire())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not isinstance(exc, AppError):
                logger.exception("chat stream %s failed", self.session_id)
            await self.error(exc)

    async def on_cancel(self, data: dict[str, Any]) -> None:
        wanted = data.get("session_id")
        if not self.running or (wanted and wanted != self.session_id):
            await self.error(
                NotFound("No such running session on this connection"),
                session_id=wanted if isinstance(wanted, str) else None,
            )
            return
        await self.stop_turn()
        await self.send(Cancelled().wire())

    async def stop_turn(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task


@router.websocket("/ws/chat")
async def ws_chat(ws: WebSocket) -> None:
    if (opened := await accept_socket(ws)) is not None:
        services, user = opened
        await ChatSocket(ws, services, user).run()


@router.websocket("/ws/chat/{session_id}")
async def ws_chat_session(ws: WebSocket, session_id: str) -> None:
    if (opened := await accept_socket(ws)) is None:
        return
    services, user = opened
    sock = ChatSocket(ws, services, user)
    try:
        request = await services.chat.claim_session(user, session_id)
    except AppError as exc:
        await sock.error(exc, session_id=session_id)
        await ws.close(code=POLICY_VIOLATION)
        return
    await sock.run(request, session_id)
