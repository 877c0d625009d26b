"""The chat limit driven to 429 on REST, the WebSocket and /v1 (#13 finding 9): a small
limit (3/minute), the scripted engine; one budget per user across the three surfaces; the
X-RateLimit-* headers on successes and on errors (a 400 and a 429 alike)."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from tests.support.api import assert_error, login_as
from tests.support.app import ClientFactory, engines_runtime
from tests.support.chat import collect, start_stream
from tests.support.engines import DEFAULT_MODEL, ScriptedEngine

V1_BODY = {"model": DEFAULT_MODEL, "messages": [{"role": "user", "content": "hi"}]}


def _app(client_factory: ClientFactory) -> tuple[TestClient, ScriptedEngine]:
    engine = ScriptedEngine(["Hi."])
    client = client_factory(engines_runtime({"gguf": engine}), rate_limits={"chat": "3/minute"})
    return client, engine


def _limit_headers(r: Any, remaining: int) -> None:
    assert r.headers["X-RateLimit-Limit"] == "3", dict(r.headers)
    assert r.headers["X-RateLimit-Remaining"] == str(remaining)
    assert int(r.headers["X-RateLimit-Reset"]) >= int(time.time())


def test_rest_chat_429_and_headers_on_errors(client_factory: ClientFactory) -> None:
    client, engine = _app(client_factory)
    h = login_as(client, "rest@example.com")
    _limit_headers(client.post("/api/chat", json={"message": "hi"}, headers=h), 2)
    # a refused request still counts and still says where the budget stands
    bad = client.post("/api/chat", json={"message": "   "}, headers=h)
    assert_error(bad, 400, "VALIDATION_ERROR")
    _limit_headers(bad, 1)
    r = client.post("/api/chat/stream/start", json={"message": "hi"}, headers=h)
    assert r.status_code == 200
    _limit_headers(r, 0)
    r = client.post("/api/chat", json={"message": "hi"}, headers=h)
    assert "3/minute" in assert_error(r, 429, "RATE_LIMITED")["detail"]
    _limit_headers(r, 0)
    assert int(r.headers["Retry-After"]) >= 1
    assert len(engine.calls) == 1  # the limited request never reached the engine
    # the budget is per user: another user chats on
    other = login_as(client, "other@example.com")
    assert client.post("/api/chat", json={"message": "hi"}, headers=other).status_code == 200


def test_v1_chat_429(client_factory: ClientFactory) -> None:
    client, engine = _app(client_factory)
    h = login_as(client, "v1@example.com")
    for remaining in (2, 1, 0):
        r = client.post("/v1/chat/completions", json=V1_BODY, headers=h)
        assert r.status_code == 200, r.text
        _limit_headers(r, remaining)
    r = client.post("/v1/chat/completions", json={**V1_BODY, "stream": True}, headers=h)
    assert_error(r, 429, "RATE_LIMITED")
    _limit_headers(r, 0)
    assert int(r.headers["Retry-After"]) >= 1
    assert len(engine.calls) == 3


def test_websocket_turns_share_the_budget_and_get_429(client_factory: ClientFactory) -> None:
    client, engine = _app(client_factory)
    h = login_as(client, "ws@example.com")
    assert client.post("/api/chat", json={"message": "hi"}, headers=h).status_code == 200
    with client.websocket_connect("/ws/chat", headers=h) as ws:
        terminals = []
        for _ in range(3):
            start_stream(ws, message="hi")
            terminals.append(collect(ws)[-1])
    assert [t["type"] for t in terminals] == ["final_answer", "final_answer", "error"]
    error = terminals[-1]["data"]
    assert error["error_code"] == "RATE_LIMITED" and "3/minute" in error["detail"]
    assert len(engine.calls) == 3
    # REST shares the spent budget
    assert_error(client.post("/api/chat", json={"message": "hi"}, headers=h), 429, "RATE_LIMITED")
