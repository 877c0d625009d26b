"""Every dashboard panel query returns data from a real Prometheus scrape of the platform."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from lmwebui.observe import prometheus_command
from lmwebui.settings import Settings
from tests.metrics.test_definitions import panel_exprs
from tests.support.gguf_fixtures import LIVE_ADMIN, LIVE_REPO
from tests.support.hub_server import Hub
from tests.support.live import LiveServer, free_port, login, wait_ready
from tests.support.models import bundled_model_path

pytestmark = pytest.mark.slow
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def prometheus(live_server: LiveServer) -> Iterator[str]:
    if shutil.which("prometheus") is None:
        if IN_CI:
            pytest.fail("prometheus is required under CI (make sysdeps installs it)")
        pytest.skip("prometheus not installed (apt-get install prometheus)")
    settings = Settings(data_dir=live_server.data_dir)
    port = free_port()
    log = live_server.data_dir.parent / "prometheus.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            prometheus_command(settings, port), stdout=fh, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{url}/-/ready", proc, 60, "prometheus")
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def query(url: str, expr: str) -> dict[str, Any]:
    r = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=30)
    body: dict[str, Any] = r.json()
    return body


def wait_for(url: str, expr: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if query(url, expr).get("data", {}).get("result"):
            return
        time.sleep(2)
    raise AssertionError(f"no data for {expr} after {timeout}s")


def drive_traffic(server: LiveServer, hub: Hub) -> None:
    """One of everything the dashboards show."""
    base = server.url
    user = login(server.url, "observer@example.com")
    with httpx.Client(base_url=base, headers=user, timeout=300) as c:
        for _ in range(2):
            assert (
                c.post("/api/chat", json={"message": "Hello", "max_tokens": 6}).status_code == 200
            )
        c.get("/api/conversations")
        c.get("/api/nope")
        httpx.get(f"{base}/api/auth/me", headers={"Authorization": "Bearer junk"}, timeout=30)
        limited = login(server.url, "limited@example.com")
        for i in range(6):  # the 6th upload in a minute is rate-limited
            c.post(
                "/api/upload/document",
                headers=limited,
                files={"file": (f"n{i}.txt", b"hello world " * 20, "text/plain")},
            )
        doc = b"The harbour budget for 2027 is 4.2 million. Code HB-2027." * 10
        r = c.post("/api/rag/ingest", files={"file": ("harbour.txt", doc, "text/plain")})
        assert r.status_code in (200, 201), r.text
        assert c.get("/api/rag/search", params={"query": "harbour budget"}).status_code == 200
    ws_url = base.replace("http://", "ws://") + "/ws/chat"
    with connect(ws_url, additional_headers=user) as ws:
        ws.send(json.dumps({"action": "start_stream", "data": {"message": "Hi", "max_tokens": 8}}))
        while json.loads(ws.recv(timeout=120))["type"] != "final_answer":
            pass
    admin = login(server.url, LIVE_ADMIN)
    name = "observed.Q4_K_M.gguf"
    hub.add_file(LIVE_REPO, name, bundled_model_path())
    broken = "broken.Q2_K.gguf"
    hub.add_file(LIVE_REPO, broken, bundled_model_path())
    hub.fault(LIVE_REPO, broken, corrupt=True)
    with httpx.Client(base_url=base, headers=admin, timeout=300) as c:
        tasks = []
        for filename in (name, broken):
            resolved = c.post("/api/gguf/resolve", json={"input": f"{LIVE_REPO}:{filename}"})
            assert resolved.status_code == 200, resolved.text
            r = c.post("/api/gguf/download", json={"file_url": resolved.json()["url"]})
            assert r.status_code == 200, r.text
            tasks.append(r.json()["task_id"])
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            states = [c.get(f"/api/gguf/download/{t}").json()["status"] for t in tasks]
            if all(s in ("completed", "error", "failed", "cancelled") for s in states):
                break
            time.sleep(1)
        chat = {"message": "Hi", "model": name, "max_tokens": 3}
        assert c.post("/api/chat", json=chat).status_code == 200
        assert c.delete(f"/api/gguf/{name}").status_code == 200  # unloads, then deletes


def test_every_panel_query_returns_data(
    live_server: LiveServer, live_hub: Hub, prometheus: str
) -> None:
    # Prometheus must have scraped the platform at least once before the traffic, so the
    # counters' increases fall inside the rate() windows.
    wait_for(prometheus, "ray_serve_deployment_replica_healthy")
    drive_traffic(live_server, live_hub)
    wait_for(prometheus, "ray_lmwebui_rag_search_seconds_count")
    wait_for(prometheus, "ray_lmwebui_downloads_failed_total")
    # Each node's metrics agent exports on its own schedule (a cluster has several) and
    # rate() needs two samples after the traffic: ask again until every panel has data,
    # within a bound, instead of one look after a fixed sleep.
    deadline = time.monotonic() + 120
    while True:
        missing = _panels_without_data(prometheus)
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert not missing, "panels without data:\n" + "\n".join(missing)


def _panels_without_data(prometheus: str) -> list[str]:
    missing = []
    for title, expr, tags in panel_exprs():
        body = query(prometheus, expr)
        assert body["status"] == "success", (title, expr, body)
        if "gpu" in tags:
            continue  # no GPU here: these panels only have to parse
        if not body["data"]["result"]:
            missing.append(f"{title}: {expr}")
    return missing


def test_alert_rules_load(prometheus: str) -> None:
    groups = httpx.get(f"{prometheus}/api/v1/rules", timeout=30).json()["data"]["groups"]
    names = {rule["name"] for group in groups for rule in group["rules"]}
    assert {"LmwebuiHighErrorRatio", "LmwebuiReplicaUnavailable"} <= names


def test_targets_file_lists_the_node(live_server: LiveServer) -> None:
    targets = json.loads(
        (Path(live_server.data_dir) / "prometheus" / "ray_targets.json").read_text()
    )
    assert targets[0]["targets"] and all(":" in t for t in targets[0]["targets"])
    # every node of a multi-node cluster (make test-cluster) is a scrape target
    nodes = int(os.environ.get("LMWEBUI_TEST_CLUSTER_NODES", "0") or 0)
    assert len(targets[0]["targets"]) == max(nodes, 1)
