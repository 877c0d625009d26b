"""/ws/chat and /ws/chat/{session_id}: streamed chat turns with cancel."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from lmwebui.api.deps import bearer_or_cookie, get_services
from lmwebui.api.services import Services
from lmwebui.api.ws.frames import FrameError, parse_frame
from lmwebui.auth.service import CurrentUser
from lmwebui.chat.schemas import ChatRequest
from lmwebui.chat.sessions import claim_stream_session, new_session_id
from lmwebui.errors import AppError

router = APIRouter()
logger = logging.getLogger("lmwebui.ws.chat")
POLICY_VIOLATION = 1008


async def authenticate_socket(ws: WebSocket, services: Services) -> CurrentUser | None:
    token = bearer_or_cookie(ws)
    if token:
        try:
            return await services.auth.authenticate(token)
        except AppError:
            pass
    await ws.accept()
    await ws.close(code=POLICY_VIOLATION, reason="authentication required")
    return None


class ChatSocket:
    """One connection: at most one running stream; frames are JSON `{action, data}`."""

    def __init__(self, ws: WebSocket, services: Services, user: CurrentUser) -> None:
        self.ws = ws
        self.services = services
        self.user = user
        self.task: asyncio.Task[None] | None = None
        self.session_id: str | None = None
        self._send_lock = asyncio.Lock()

    async def send(self, event: dict[str, Any], session_id: str | None) -> None:
        payload = {k: v for k, v in event.items() if k != "type"}
        message = {
            "type": event["type"],
            "session_id": session_id,
            **payload,
            "data": payload,
            "timestamp": time.time(),
        }
        async with self._send_lock:
            await self.ws.send_text(json.dumps(message))

    async def error(self, detail: str, code: str, session_id: str | None = None) -> None:
        await self.send(
            {"type": "error", "error": detail, "error_code": code, "message": detail}, session_id
        )

    async def run(self, initial: ChatRequest | None = None, session_id: str | None = None) -> None:
        if initial is not None:
            self.start(initial, session_id or new_session_id())
        try:
            while True:
                text = await self.ws.receive_text()
                await self.handle_frame(text)
        except WebSocketDisconnect:
            pass
        finally:
            await self.stop_stream()

    async def handle_frame(self, text: str) -> None:
        try:
            action, data = parse_frame(text)
        except FrameError as exc:
            await self.error(str(exc), "VALIDATION_ERROR")
            return
        if action == "start_stream":
            await self.on_start(data)
        elif action == "cancel_session":
            await self.on_cancel(data)
        elif action == "ping":
            await self.send({"type": "pong"}, self.session_id)
        else:
            await self.error(f"Unknown action '{action}'", "VALIDATION_ERROR")

    async def on_start(self, data: dict[str, Any]) -> None:
        if self.task is not None and not self.task.done():
            await self.error(
                "A stream is already running on this connection; cancel it first",
                "VALIDATION_ERROR",
                self.session_id,
            )
            return
        try:
            request = ChatRequest.model_validate(data)
            self.services.chat.validate(request)
            await self.services.limiter.check("chat", f"user:{self.user.id}")
        except ValidationError as exc:
            detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            await self.error(f"Request validation failed: {detail}", "VALIDATION_ERROR")
            return
        except AppError as exc:
            await self.error(exc.detail, exc.error_code)
            return
        self.start(request, new_session_id())

    def start(self, request: ChatRequest, session_id: str) -> None:
        self.session_id = session_id
        self.task = asyncio.create_task(self.stream(request, session_id))

    async def stream(self, request: ChatRequest, session_id: str) -> None:
        try:
            async for event in self.services.chat.events(self.user, request):
                await self.send(event, session_id)
        except asyncio.CancelledError:
            raise
        except AppError as exc:
            await self.error(exc.detail, exc.error_code, session_id)
        except Exception:
            logger.exception("chat stream %s failed", session_id)
            await self.error("The stream failed; retry the request", "INTERNAL_ERROR", session_id)

    async def on_cancel(self, data: dict[str, Any]) -> None:
        wanted = data.get("session_id")
        running = self.task is not None and not self.task.done()
        if not running or (wanted and wanted != self.session_id):
            await self.error(
                "No such running session on this connection",
                "NOT_FOUND",
                wanted if isinstance(wanted, str) else None,
            )
            return
        await self.stop_stream()
        await self.send({"type": "cancelled", "message": "Stream cancelled"}, self.session_id)

    async def stop_stream(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task


@router.websocket("/ws/chat")
async def ws_chat(ws: WebSocket) -> None:
    services = get_services(ws)
    user = await authenticate_socket(ws, services)
    if user is None:
        return
    await ws.accept()
    await ChatSocket(ws, services, user).run()


@router.websocket("/ws/chat/{session_id}")
async def ws_chat_session(ws: WebSocket, session_id: str) -> None:
    services = get_services(ws)
    user = await authenticate_socket(ws, services)
    if user is None:
        return
    await ws.accept()
    sock = ChatSocket(ws, services, user)
    try:
        request = ChatRequest.model_validate_json(
            await claim_stream_session(services.db, user.id, session_id)
        )
    except AppError as exc:
        await sock.error(exc.detail, exc.error_code, session_id)
        await ws.close(code=POLICY_VIOLATION)
        return
    await sock.run(request, session_id)
