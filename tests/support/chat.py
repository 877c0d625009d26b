"""Chat turns through the public surface: the WebSocket protocol and /v1 SSE."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

TERMINAL = ("final_answer", "error", "cancelled")
Event = dict[str, Any]


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
