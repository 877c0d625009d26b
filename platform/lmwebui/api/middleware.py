"""Pure-ASGI middleware (cheap: no BaseHTTPMiddleware on the hot path): request id, replica
tag and HTTP metrics by route template."""

from __future__ import annotations

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


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp, served_by: str | None = None) -> None:
        self.app = app
        self.served_by = served_by.encode() if served_by else None
        self.open_sockets: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id
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
        scope.setdefault("state", {})["request_id"] = uuid.uuid4().hex[:16]
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
