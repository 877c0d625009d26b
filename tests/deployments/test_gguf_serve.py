"""Done means: resolve -> download (live progress) -> chat with it -> delete, through the
Serve proxy against the local hub (2 ingress replicas, the DownloadManager actor,
ChatGGUF replicas)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from tests.support.gguf_files import write_gguf
from tests.support.gguf_fixtures import LIVE_ADMIN, LIVE_FILE, LIVE_REPO
from tests.support.hub_server import Hub
from tests.support.live import LiveServer, login

pytestmark = pytest.mark.slow


def events(server: LiveServer, h: dict[str, str], task_id: str) -> list[dict[str, Any]]:
    url = server.url.replace("http://", "ws://") + f"/ws/gguf/download/{task_id}"
    out = []
    with connect(url, additional_headers=h) as ws:
        while True:
            ev = json.loads(ws.recv(timeout=300))
            out.append(ev)
            if ev["type"] in ("completed", "error", "cancelled"):
                return out


def test_resolve_download_chat_delete_through_serve(live_server: LiveServer, live_hub: Hub) -> None:
    base = live_server.url
    h = login(live_server.url, LIVE_ADMIN)
    client = httpx.Client(base_url=base, headers=h, timeout=300)
    r = client.post("/api/gguf/resolve", json={"input": LIVE_REPO})
    assert r.status_code == 200, r.text
    resolved = r.json()
    assert resolved["filename"] == LIVE_FILE and resolved["quantization"] == "Q4_K_M"

    live_hub.state.rate_bps = 64 * 1024 * 1024  # ~4 s: several progress events
    r = client.post("/api/gguf/download", json={"file_url": resolved["url"]})
    assert r.status_code == 200, r.text
    task_id = r.json()["task_id"]
    evs = events(live_server, h, task_id)
    live_hub.state.rate_bps = None
    assert evs[-1]["type"] == "completed", evs[-3:]
    assert any(e["type"] == "progress" and 0 < e["percentage"] < 100 for e in evs), evs
    # every ingress replica answers from the one DownloadManager actor
    answers = {client.get(f"/api/gguf/download/{task_id}").json()["status"] for _ in range(10)}
    assert answers == {"completed"}

    local = {m["name"]: m for m in client.get("/api/gguf/local").json()["models"]}
    assert local[LIVE_FILE]["architecture"] == "gemma3"
    assert local[LIVE_FILE]["source"]["repo_id"] == LIVE_REPO
    compat = client.get(f"/api/gguf/compatibility/{LIVE_FILE}").json()
    assert compat["compatible"] is True and compat["recommendation_source"] == "repository"

    chat = {"message": "Hello", "model": LIVE_FILE, "max_tokens": 4, "temperature": 0}
    r = client.post("/api/chat", json=chat)
    assert r.status_code == 200, r.text
    assert r.json()["model"] == LIVE_FILE and r.json()["tokens_used"] > 0

    r = client.delete(f"/api/gguf/{LIVE_FILE}")
    assert r.status_code == 200, r.text
    assert r.json()["unloaded_replicas"] >= 1  # it was loaded: unloaded before the delete
    r = client.post("/api/chat", json=chat)
    assert r.status_code == 404 and r.json()["error_code"] == "MODEL_NOT_FOUND", r.text
    assert LIVE_FILE not in {m["name"] for m in client.get("/api/gguf/local").json()["models"]}


def test_upload_through_serve(live_server: LiveServer, tmp_path: Path) -> None:
    h = login(live_server.url, LIVE_ADMIN)
    data = write_gguf(tmp_path / "up.gguf", data_bytes=8 * 1024 * 1024).read_bytes()
    with httpx.Client(base_url=live_server.url, headers=h, timeout=120) as client:
        r = client.post("/api/gguf/upload", files={"file": ("served.Q8_0.gguf", data)})
        assert r.status_code == 200, r.text
        assert r.json()["size"] == len(data)
        r = client.post("/api/gguf/upload", files={"file": ("served.Q8_0.gguf", data)})
        assert r.status_code == 409, r.text
        assert client.delete("/api/gguf/served.Q8_0.gguf").status_code == 200
