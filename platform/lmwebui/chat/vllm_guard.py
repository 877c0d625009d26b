"""The key in front of the vLLM app: every HTTP and WebSocket request needs it.

The vLLM app is a Serve application on the platform's own HTTP port (``vllm.route_prefix``),
and vLLM's server has routes outside ``/v1`` that generate or change state (``/invocations``,
``/tokenize``, ``/pooling``, ``/scale_elastic_ep``...) which vLLM's own ``--api-key`` does not
cover. So the app's whole ASGI stack sits behind this guard (deployments/vllm_server.py),
and only the platform's ingress, which authenticates and rate-limits users, holds the key
(``secrets_store.vllm_key``). Serve's own endpoints (``/-/healthz``, ``/-/routes``: HAProxy's
health checks) pass. Pure ASGI, no imports: it loads in the vLLM environment too.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

KEY_ENV = "LMWEBUI_VLLM_KEY"  # the replicas' environment (deployments/chat_vllm.py)
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
SERVE_PATHS = ("/-/healthz", "/-/routes")  # exactly these (HAProxy's health checks)
UNAUTHORIZED = b'{"error":{"message":"Unauthorized","type":"invalid_request_error","code":401}}'


class KeyGuard:
    def __init__(self, app: ASGIApp, key: str) -> None:
        if len(key) < 32:
            raise ValueError("the vLLM app's key must be at least 32 characters")
        self.app = app
        self.expected = f"Bearer {key}".encode()

    def _authorized(self, scope: Scope) -> bool:
        for name, value in scope.get("headers") or ():
            if name.lower() == b"authorization":
                return hmac.compare_digest(bytes(value), self.expected)
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._authorized(scope):
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        if path.removeprefix(str(scope.get("root_path", ""))) in SERVE_PATHS:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(UNAUTHORIZED)).encode()),
                    (b"www-authenticate", b"Bearer"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": UNAUTHORIZED})
