"""What every WebSocket kind shares: authentication, the event envelope, error events."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from fastapi import WebSocket

from lmwebui.api.deps import bearer_or_cookie, cookie_origin_refused
from lmwebui.api.services import Services
from lmwebui.auth.service import CurrentUser
from lmwebui.chat.events import ErrorEvent
from lmwebui.errors import AppError

POLICY_VIOLATION = 1008


async def authenticate_socket(ws: WebSocket, services: Services) -> CurrentUser | None:
    """The caller, or None after closing the socket with 1008. The socket is accepted
    before it is closed: a close before accept() reaches a browser as a bare 1006. A socket
    that would act with the session cookie must come from an allowed origin (a page of
    another origin could otherwise drive the user's chat)."""
    if cookie_origin_refused(ws, services.settings.security.allowed_origins):
        await _refuse(ws, "origin not allowed")
        return None
    token = bearer_or_cookie(ws)
    if token:
        try:
            return await services.auth.authenticate(token)
        except AppError:
            pass
    await _refuse(ws, "authentication required")
    return None


async def _refuse(ws: WebSocket, reason: str) -> None:
    await ws.accept()
    await ws.close(code=POLICY_VIOLATION, reason=reason)


async def accept_socket(ws: WebSocket) -> tuple[Services, CurrentUser] | None:
    """Every socket route starts here: the app's services and the authenticated caller,
    with the socket accepted; None when the socket was refused (and closed)."""
    services: Services = ws.app.state.services
    user = await authenticate_socket(ws, services)
    if user is None:
        return None
    await ws.accept()
    return services, user


def ws_error_event(exc: BaseException) -> dict[str, Any]:
    """The one WebSocket form of an error (see chat.events.ErrorEvent)."""
    return ErrorEvent.of(exc).wire()


class EventSocket:
    """Sends events as ``{type, ...fields, data: {fields}, timestamp}`` plus the
    connection's envelope fields (session_id, task_id); one sender at a time."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self._send_lock = asyncio.Lock()

    def envelope(self) -> dict[str, Any]:
        return {}

    async def send(self, event: dict[str, Any], **envelope: Any) -> None:
        payload = {k: v for k, v in event.items() if k != "type"}
        message = {
            "type": event["type"],
            **self.envelope(),
            **envelope,
            **payload,
            "data": payload,
            "timestamp": time.time(),
        }
        async with self._send_lock:
            await self.ws.send_text(json.dumps(message))

    async def error(self, exc: BaseException, **envelope: Any) -> None:
        await self.send(ws_error_event(exc), **envelope)
