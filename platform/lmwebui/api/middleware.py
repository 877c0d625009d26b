"""Pure-ASGI request id middleware (cheap: no BaseHTTPMiddleware on the hot path)."""

from __future__ import annotations

import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp, served_by: str | None = None) -> None:
        self.app = app
        self.served_by = served_by.encode() if served_by else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                if self.served_by:
                    headers.append((b"x-served-by", self.served_by))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)
