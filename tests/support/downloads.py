"""Waiting on downloads through the public API (status polling and the WebSocket)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

TERMINAL = ("completed", "error", "cancelled")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def start(client: TestClient, h: dict[str, str], url: str, **extra: Any) -> dict[str, Any]:
    r = client.post("/api/gguf/download", json={"file_url": url, **extra}, headers=h)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def status(client: TestClient, h: dict[str, str], task_id: str) -> dict[str, Any]:
    r = client.get(f"/api/gguf/download/{task_id}", headers=h)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def wait_until(
    client: TestClient, h: dict[str, str], task_id: str, pred: Any, timeout: float = 120
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        snap = status(client, h, task_id)
        if pred(snap):
            return snap
        assert time.monotonic() < deadline, f"task never reached the state: {snap}"
        time.sleep(0.05)


def wait_done(client: TestClient, h: dict[str, str], task_id: str) -> dict[str, Any]:
    return wait_until(client, h, task_id, lambda s: s["status"] in TERMINAL)


def ws_events(client: TestClient, h: dict[str, str], task_id: str) -> list[dict[str, Any]]:
    """Every event of the task's WebSocket until its terminal event."""
    events = []
    with client.websocket_connect(f"/ws/gguf/download/{task_id}", headers=h) as ws:
        while True:
            ev: dict[str, Any] = ws.receive_json()
            events.append(ev)
            if ev["type"] in TERMINAL:
                return events


def leftovers(models_dir: Path) -> list[str]:
    """Work files that must not survive a finished/failed operation."""
    out = []
    for sub in (".downloads", ".uploads"):
        folder = models_dir / sub
        if folder.is_dir():
            out += [f"{sub}/{p.name}" for p in folder.iterdir() if not p.name.endswith(".json")]
    out += [p.name for p in models_dir.glob(".deleting-*")] if models_dir.is_dir() else []
    return out


def model_names(models_dir: Path) -> set[str]:
    return {p.name for p in models_dir.glob("*.gguf")} if models_dir.is_dir() else set()
