"""The key in front of the vLLM app (chat/vllm_guard.py), around a stand-in ASGI app with
the kinds of routes vLLM's server has: /v1, routes outside /v1, a WebSocket, Serve's /-/."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, WebSocket
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from lmwebui.chat.vllm_guard import KeyGuard
from lmwebui.secrets_store import Secrets, vllm_key

KEY = vllm_key(Secrets(jwt_secret="s" * 48, fernet_key=b""))


def guarded(root_path: str = "") -> TestClient:
    app = FastAPI()

    @app.get("/v1/models")
    async def models() -> dict[str, str]:
        return {"ok": "models"}

    @app.post("/invocations")  # vLLM's SageMaker route: generates, outside /v1
    async def invocations() -> dict[str, str]:
        return {"ok": "generated"}

    @app.get("/-/healthz")
    async def healthz() -> str:
        return "success"

    @app.websocket("/v1/realtime")
    async def realtime(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("hello")
        await ws.close()

    app.add_middleware(KeyGuard, key=KEY)
    return TestClient(app, root_path=root_path)


@pytest.mark.parametrize("path", ["/v1/models", "/invocations", "/-/%2e%2e/v1/models"])
def test_every_route_needs_the_key(path: str) -> None:
    c = guarded()
    method = c.post if path == "/invocations" else c.get
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
        r = method(path, headers=headers)
        assert r.status_code == 401, (path, headers)
        assert r.json()["error"]["message"] == "Unauthorized"
        assert r.headers["www-authenticate"] == "Bearer"
    ok = method(path, headers={"Authorization": f"Bearer {KEY}"})
    assert ok.status_code in (200, 404) and ok.status_code != 401


def test_with_the_key_requests_reach_the_app() -> None:
    c = guarded()
    h = {"Authorization": f"Bearer {KEY}"}
    assert c.get("/v1/models", headers=h).json() == {"ok": "models"}
    assert c.post("/invocations", headers=h).json() == {"ok": "generated"}


def test_serve_health_checks_pass_without_the_key() -> None:
    assert guarded().get("/-/healthz").status_code == 200


def test_websockets_need_the_key() -> None:
    c = guarded()
    with pytest.raises(WebSocketDisconnect) as refused, c.websocket_connect("/v1/realtime") as ws:
        ws.receive_text()
    assert refused.value.code == 1008
    with c.websocket_connect("/v1/realtime", headers={"Authorization": f"Bearer {KEY}"}) as ws:
        assert ws.receive_text() == "hello"


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="32 characters"):
        KeyGuard(guarded().app, "short")


def test_the_key_is_derived_from_the_jwt_secret() -> None:
    other = vllm_key(Secrets(jwt_secret="t" * 48, fernet_key=b""))
    assert len(KEY) == 64 and other != KEY
    assert vllm_key(Secrets(jwt_secret="s" * 48, fernet_key=b"x")) == KEY
