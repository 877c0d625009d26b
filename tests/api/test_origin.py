"""The Origin check: a page of another origin must not act with a user's session cookie,
over HTTP (state-changing methods) or a WebSocket; Bearer clients are never checked."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.support.api import assert_error, login_as, register_and_login
from tests.support.app import ClientFactory

EVIL = "http://evil.example"
SAME = "http://testserver"  # TestClient's Host
ALLOWED = "https://app.example.com"


@pytest.fixture
def client(client_factory: ClientFactory) -> TestClient:
    return client_factory(
        rate_limits={"enabled": False}, security={"allowed_origins": [ALLOWED + "/"]}
    )


def _socket_answers(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    """Open /ws/chat and send a malformed frame: an accepted socket answers an error event."""
    with client.websocket_connect("/ws/chat", headers=headers) as ws:
        ws.send_text("not json")
        event: dict[str, Any] = ws.receive_json()
    return event


def _socket_refused(client: TestClient, headers: dict[str, str]) -> WebSocketDisconnect:
    with (
        pytest.raises(WebSocketDisconnect) as exc,
        client.websocket_connect("/ws/chat", headers=headers) as ws,
    ):
        ws.send_text("not json")  # an accepted socket would answer it
        ws.receive_json()
    return exc.value


def test_socket_with_cookie_from_another_origin_is_closed_1008(client: TestClient) -> None:
    register_and_login(client, "ws-origin@example.com")  # the client keeps the cookies
    for origin in (EVIL, "null", "http://testserver.evil.example", "http://testserver:8080"):
        refused = _socket_refused(client, {"Origin": origin})
        assert (refused.code, refused.reason) == (1008, "origin not allowed"), origin
    refused = _socket_refused(client, {"Referer": EVIL + "/page"})  # no Origin: the Referer
    assert refused.code == 1008


def test_socket_with_cookie_from_own_or_allowed_origin_is_accepted(client: TestClient) -> None:
    register_and_login(client, "ws-same@example.com")
    for headers in ({"Origin": SAME}, {"Origin": ALLOWED}, {"Origin": ALLOWED.upper()}, {}):
        assert _socket_answers(client, headers)["type"] == "error", headers


def test_bearer_socket_is_not_origin_checked(client: TestClient) -> None:
    bearer = login_as(client, "ws-bearer@example.com")  # no cookies kept
    assert _socket_answers(client, bearer)["type"] == "error"
    assert _socket_answers(client, {**bearer, "Origin": EVIL})["type"] == "error"
    assert _socket_refused(client, {"Origin": EVIL}).reason == "authentication required"


def test_cookie_post_from_another_origin_is_refused(client: TestClient) -> None:
    register_and_login(client, "http-origin@example.com")
    for headers in ({"Origin": EVIL}, {"Origin": "null"}, {"Referer": EVIL + "/x"}):
        r = client.post("/api/api-keys", json={"name": "csrf"}, headers=headers)
        assert_error(r, 403, "PERMISSION_DENIED")
    r = client.delete("/api/auth/me", headers={"Origin": EVIL})
    assert_error(r, 403, "PERMISSION_DENIED")
    assert client.get("/api/api-keys", headers={"Origin": EVIL}).json()["keys"] == []
    assert client.get("/api/auth/me").status_code == 200  # the account is still there
    for headers in ({"Origin": SAME}, {"Origin": ALLOWED}, {"Referer": SAME + "/chat"}, {}):
        r = client.post("/api/api-keys", json={"name": "ok"}, headers=headers)
        assert r.status_code == 201, (headers, r.text)


def test_cookie_refresh_and_logout_from_another_origin_are_refused(client: TestClient) -> None:
    register_and_login(client, "refresh-origin@example.com")
    assert_error(
        client.post("/api/auth/refresh", headers={"Origin": EVIL}), 403, "PERMISSION_DENIED"
    )
    assert_error(
        client.post("/api/auth/logout", headers={"Origin": EVIL}), 403, "PERMISSION_DENIED"
    )
    assert client.get("/api/auth/me").status_code == 200  # not logged out
    r = client.post("/api/auth/refresh", headers={"Origin": SAME})
    assert r.status_code == 200, r.text  # the refresh token was not spent by the refused call


def test_bearer_post_from_any_origin_is_accepted(client: TestClient) -> None:
    bearer = login_as(client, "http-bearer@example.com")
    r = client.post("/api/api-keys", json={"name": "b"}, headers={**bearer, "Origin": EVIL})
    assert r.status_code == 201, r.text
    other = login_as(client, "http-other@example.com")
    keys = client.get("/api/api-keys", headers=other).json()["keys"]
    assert keys == []  # the key went to the Bearer's user, no one else


def test_allowed_origins_setting_accepts_only_origins(client_factory: ClientFactory) -> None:
    from pydantic import ValidationError

    for bad in ("https://app.example.com/path", "app.example.com", "ftp://x", "https://u@x"):
        with pytest.raises(ValidationError):
            client_factory(security={"allowed_origins": [bad]})
