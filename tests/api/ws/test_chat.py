"""WebSocket /ws/chat and /ws/chat/{session_id} with the real model."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.support.api import login_as
from tests.support.chat import collect, start_stream


def test_stream_tokens_then_final_answer(chat_client: TestClient) -> None:
    h = login_as(chat_client, "ws@example.com")
    with chat_client.websocket_connect("/ws/chat", headers=h) as ws:
        start_stream(ws, temperature=0, max_tokens=16)
        events = collect(ws)
    final = events[-1]
    assert final["type"] == "final_answer", events
    tokens = [e for e in events if e["type"] == "token_update"]
    assert tokens and all(e["is_complete"] is False for e in tokens)
    assert final["content"] == "".join(e["token"] for e in tokens)
    assert final["tokens_used"] > 0 and final["processing_time"] > 0
    sid = final["session_id"]
    assert sid.startswith("session_")
    for e in events:
        assert e["session_id"] == sid and isinstance(e["timestamp"], float)
        assert e["data"]["token" if e["type"] == "token_update" else "tokens_used"] is not None
    # the turn is persisted like a REST one
    conv = chat_client.get(f"/api/conversations/{final['conversation_id']}", headers=h).json()
    assert conv["conversation"]["messages"][1]["content"] == final["content"]


def test_unauthenticated_socket_closed_1008(chat_client: TestClient) -> None:
    chat_client.cookies.clear()
    with pytest.raises(WebSocketDisconnect) as exc, chat_client.websocket_connect("/ws/chat") as ws:
        ws.receive_json()
    assert exc.value.code == 1008
    with (
        pytest.raises(WebSocketDisconnect) as exc,
        chat_client.websocket_connect("/ws/chat", headers={"Authorization": "Bearer junk"}) as ws,
    ):
        ws.receive_json()
    assert exc.value.code == 1008


def test_malformed_frames_and_unknown_actions(chat_client: TestClient) -> None:
    h = login_as(chat_client, "wsbad@example.com")
    with chat_client.websocket_connect("/ws/chat", headers=h) as ws:
        for frame in (
            "not json",
            "[1,2]",
            json.dumps({"data": {}}),
            json.dumps({"action": "start_stream", "data": "x"}),
            json.dumps({"action": "dance"}),
            json.dumps({"action": "start_stream", "data": {"message": ""}}),
            json.dumps({"action": "start_stream", "data": {"message": "x", "max_tokens": -1}}),
            json.dumps({"action": "cancel_session", "data": {"session_id": "nope"}}),
        ):
            ws.send_text(frame)
            ev = ws.receive_json()
            assert ev["type"] == "error", (frame, ev)
            assert ev["error_code"] in ("VALIDATION_ERROR", "NOT_FOUND")
        # the socket is still usable
        start_stream(ws, temperature=0, max_tokens=3)
        assert collect(ws)[-1]["type"] == "final_answer"
        start_stream(ws, model="missing-model")
        ev = collect(ws)[-1]
        assert ev["type"] == "error" and ev["error_code"] == "MODEL_NOT_FOUND"


def _engine_stats(client: TestClient) -> dict[str, Any]:
    engine = client.app.state.services.chat.providers.engines["gguf"]  # type: ignore[attr-defined]
    stats: dict[str, Any] = engine.stats()["gemma3-270m-q4_k_m.gguf"]
    return stats


def test_cancel_mid_stream_stops_generation(chat_client: TestClient) -> None:
    h = login_as(chat_client, "cancel@example.com")
    with chat_client.websocket_connect("/ws/chat", headers=h) as ws:
        start_stream(ws, message="Write a very long story about dragons.", max_tokens=400)
        first = ws.receive_json()
        while first["type"] != "token_update":
            first = ws.receive_json()
        sid = first["session_id"]
        # a second stream on the same socket is refused while one runs
        start_stream(ws, message="another")
        events = collect(ws, until=("error",))
        assert events[-1]["type"] == "error" and "already running" in events[-1]["error"]
        ws.send_text(json.dumps({"action": "cancel_session", "data": {"session_id": sid}}))
        rest = collect(ws, until=("cancelled",))
        assert rest[-1]["session_id"] == sid
        assert not any(e["type"] == "final_answer" for e in rest)
        # generation stopped on the engine: the sequence leaves the batch at the next step
        deadline = time.monotonic() + 2
        while _engine_stats(chat_client)["active_slots"] and time.monotonic() < deadline:
            time.sleep(0.01)
        stats = _engine_stats(chat_client)
        assert stats["active_slots"] == 0
        assert stats["requests_cancelled"] >= 1
        # and the socket serves the next stream
        start_stream(ws, temperature=0, max_tokens=3)
        assert collect(ws)[-1]["type"] == "final_answer"
    # a cancelled turn is not persisted
    convs = chat_client.get("/api/conversations", headers=h).json()["conversations"]
    assert len(convs) == 1


def test_disconnect_mid_stream_stops_generation(chat_client: TestClient) -> None:
    h = login_as(chat_client, "gone@example.com")
    cancelled_before = _engine_stats(chat_client)["requests_cancelled"]
    with chat_client.websocket_connect("/ws/chat", headers=h) as ws:
        start_stream(ws, message="Tell me everything about the ocean.", max_tokens=400)
        ev = ws.receive_json()
        while ev["type"] != "token_update":
            ev = ws.receive_json()
    deadline = time.monotonic() + 5
    while _engine_stats(chat_client)["active_slots"] and time.monotonic() < deadline:
        time.sleep(0.05)
    stats = _engine_stats(chat_client)
    assert stats["active_slots"] == 0
    assert stats["requests_cancelled"] == cancelled_before + 1


def test_stream_start_then_session_socket(chat_client: TestClient) -> None:
    h = login_as(chat_client, "session@example.com")
    r = chat_client.post(
        "/api/chat/stream/start",
        json={"message": "Hi there", "temperature": 0, "max_tokens": 4},
        headers=h,
    )
    assert r.status_code == 200
    sid, url = r.json()["session_id"], r.json()["websocket_url"]
    assert url == f"/ws/chat/{sid}"
    with chat_client.websocket_connect(url, headers=h) as ws:
        events = collect(ws)
    assert events[-1]["type"] == "final_answer" and events[-1]["session_id"] == sid
    # a session runs once, and only for its owner
    with chat_client.websocket_connect(url, headers=h) as ws:
        ev = ws.receive_json()
        assert ev["type"] == "error"
    other = login_as(chat_client, "other@example.com")
    sid2 = chat_client.post("/api/chat/stream/start", json={"message": "x"}, headers=h).json()[
        "session_id"
    ]
    with chat_client.websocket_connect(f"/ws/chat/{sid2}", headers=other) as ws:
        assert ws.receive_json()["type"] == "error"
