"""Pure-ASGI middleware (cheap: no BaseHTTPMiddleware on the hot path): request id, replica
tag and HTTP metrics by route template."""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lmwebui.metrics import get_metrics


def route_template(scope: Scope) -> str:
    """The matched route's path template (bounded label), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_of(scope: Scope) -> str | None:
    """The X-Request-ID the request came with, when it is a plain token."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _REQUEST_ID.fullmatch(text) else None
    return None


class RequestIdMiddleware:
    """One id per request, the same in the X-Request-ID header, a 500 body and the logs.
    Under Serve (``proxy_request_id``) Serve's proxy gives every request an
    ``x-request-id`` and returns it on the response: the app adopts it and adds no second
    header. Otherwise the app adopts a client's id or makes one, and returns it."""

    def __init__(
        self, app: ASGIApp, served_by: str | None = None, proxy_request_id: bool = False
    ) -> None:
        self.app = app
        self.served_by = served_by.encode() if served_by else None
        self.proxy_request_id = proxy_request_id
        self.open_sockets: Counter[str] = Counter()

    def _assign(self, scope: Scope) -> tuple[str, bool]:
        """The request's id, and whether the app writes the header (state.request_id_header:
        the 500 handler, outside this middleware, writes it under the same rule)."""
        incoming = request_id_of(scope)
        request_id = incoming or uuid.uuid4().hex[:16]
        write = not (self.proxy_request_id and incoming is not None)
        state = scope.setdefault("state", {})
        state["request_id"], state["request_id_header"] = request_id, write
        return request_id, write

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id, write_id = self._assign(scope)
        started = time.perf_counter()
        recorded = False

        def record(status: int) -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            route, method = route_template(scope), scope["method"]
            metrics = get_metrics()
            metrics.inc(
                "lmwebui_http_requests_total",
                tags={"route": route, "method": method, "status": str(status)},
            )
            metrics.observe(
                "lmwebui_http_request_duration_seconds",
                time.perf_counter() - started,
                tags={"route": route, "method": method},
            )

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if write_id:
                    headers.append((b"x-request-id", request_id.encode()))
                if self.served_by:
                    headers.append((b"x-served-by", self.served_by))
                message["headers"] = headers
                record(int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            record(500)
            raise

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._assign(scope)
        kind = (
            scope.get("path", "").split("/")[2]
            if scope.get("path", "").count("/") >= 2
            else "other"
        )
        kind = kind if kind in ("chat", "gguf") else "other"
        self.open_sockets[kind] += 1
        get_metrics().set("lmwebui_ws_connections", self.open_sockets[kind], {"kind": kind})
        try:
            await self.app(scope, receive, send)
        finally:
            self.open_sockets[kind] -= 1
            get_metrics().set("lmwebui_ws_connections", self.open_sockets[kind], {"kind": kind})
