"""WebSocket /ws/gguf/download/{task_id}: auth, unknown tasks, frames, cancel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.support.downloads import leftovers, model_names, start, wait_until, ws_events
from tests.support.gguf_fixtures import (
    MIB,
    REPO,
    admin_headers,
    hub_url,
    user_headers,
)
from tests.support.hub_server import Hub

Q8 = "tiny.Q8_0.gguf"


def test_unauthenticated_socket_is_closed_1008(gguf_client: TestClient) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as exc,
        gguf_client.websocket_connect("/ws/gguf/download/download_x") as ws,
    ):
        ws.receive_json()
    assert exc.value.code == 1008


def test_unknown_or_foreign_task_gets_an_error_then_1008(gguf_client: TestClient, hub: Hub) -> None:
    admin = admin_headers(gguf_client)
    task = start(gguf_client, admin, hub_url(hub, "tiny.Q4_K_M.gguf"))
    for tid, h in (("download_missing", admin), (task["task_id"], user_headers(gguf_client))):
        with gguf_client.websocket_connect(f"/ws/gguf/download/{tid}", headers=h) as ws:
            ev = ws.receive_json()
            assert ev["type"] == "error" and ev["error_code"] == "NOT_FOUND", ev
            with pytest.raises(WebSocketDisconnect) as exc:
                ws.receive_json()
            assert exc.value.code == 1008


def test_frames_and_cancel_over_the_socket(
    gguf_client: TestClient, hub: Hub, tmp_path: Path
) -> None:
    h = admin_headers(gguf_client)
    hub.fault(REPO, Q8, gate_after=MIB)
    tid = start(gguf_client, h, hub_url(hub, Q8))["task_id"]
    wait_until(gguf_client, h, tid, lambda s: s["downloaded_bytes"] >= MIB)
    with gguf_client.websocket_connect(f"/ws/gguf/download/{tid}", headers=h) as ws:
        first = ws.receive_json()
        assert first["type"] == "progress" and first["task_id"] == tid
        assert first["downloaded_bytes"] == MIB and first["data"]["total_bytes"] > MIB
        ws.send_text("not json")
        assert ws.receive_json()["error_code"] == "VALIDATION_ERROR"
        ws.send_text(json.dumps({"action": "bogus"}))
        assert ws.receive_json()["error_code"] == "VALIDATION_ERROR"
        ws.send_text(json.dumps({"action": "ping"}))
        assert ws.receive_json()["type"] == "pong"
        ws.send_text(json.dumps({"action": "status"}))
        assert ws.receive_json()["type"] == "progress"
        ws.send_text(json.dumps({"action": "cancel"}))
        while (ev := ws.receive_json())["type"] == "progress":
            pass
        assert ev["type"] == "cancelled" and ev["message"] == "Download cancelled"
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()  # the server closes after the terminal event
        assert exc.value.code == 1000
    hub.release()
    assert model_names(tmp_path / "models") == set() and leftovers(tmp_path / "models") == []


def test_socket_on_a_finished_task_gets_its_outcome(gguf_client: TestClient, hub: Hub) -> None:
    h = admin_headers(gguf_client)
    tid = start(gguf_client, h, hub_url(hub, "tiny.Q4_K_M.gguf"))["task_id"]
    wait_until(gguf_client, h, tid, lambda s: s["status"] == "completed")
    events = ws_events(gguf_client, h, tid)
    assert [e["type"] for e in events] == ["completed"]
