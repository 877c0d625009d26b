"""Chat turns through the public surface: the WebSocket protocol and /v1 SSE."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

TERMINAL = ("final_answer", "error", "cancelled")
Event = dict[str, Any]
# build(engine, **settings) -> (client, Bearer header): the `build` fixture of tests/chat
Build = Callable[..., tuple[TestClient, dict[str, str]]]
QUESTION = "Why is the sky blue?"


def start_stream(ws: Any, **data: Any) -> None:
    """Send a `start_stream` frame (message defaults to "Hello AI")."""
    ws.send_text(json.dumps({"action": "start_stream", "data": {"message": "Hello AI", **data}}))


def cancel_session(ws: Any, session_id: str | None) -> None:
    ws.send_text(json.dumps({"action": "cancel_session", "data": {"session_id": session_id}}))


def collect(ws: Any, until: tuple[str, ...] = TERMINAL) -> list[Event]:
    """Events up to and including the first whose type is in ``until``."""
    events = []
    while True:
        ev: Event = ws.receive_json()
        events.append(ev)
        if ev["type"] in until:
            return events


def ws_turn(client: TestClient, headers: dict[str, str], **data: Any) -> list[Event]:
    """One turn on a fresh /ws/chat socket: every event up to the terminal one."""
    with client.websocket_connect("/ws/chat", headers=headers) as ws:
        start_stream(ws, **data)
        return collect(ws)


def of_type(events: list[Event], kind: str) -> list[Event]:
    return [e for e in events if e["type"] == kind]


def sse_data(body: str) -> list[str]:
    """The `data:` payloads of an SSE body, in order."""
    return [line[len("data: ") :] for line in body.splitlines() if line.startswith("data: ")]


def chat(client: TestClient, h: dict[str, str], **body: Any) -> dict[str, Any]:
    r = client.post("/api/chat", json={"message": QUESTION, **body}, headers=h)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def conversation(client: TestClient, h: dict[str, str], cid: str) -> dict[str, Any]:
    r = client.get(f"/api/conversations/{cid}", headers=h)
    assert r.status_code == 200, r.text
    conv: dict[str, Any] = r.json()["conversation"]
    return conv


def conversations(client: TestClient, h: dict[str, str]) -> list[dict[str, Any]]:
    r = client.get("/api/conversations", headers=h)
    assert r.status_code == 200, r.text
    convs: list[dict[str, Any]] = r.json()["conversations"]
    return convs
