"""POST /api/gguf/download (+ status, cancel) against the local hub, with its faults.

The in-process app runs the same DownloadManager the Ray actor hosts (see
tests/deployments/test_download_actor.py for the actor itself).
"""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.support.api import assert_error
from tests.support.downloads import (
    leftovers,
    model_names,
    sha256,
    start,
    status,
    wait_done,
    wait_until,
    ws_events,
)
from tests.support.gguf_fixtures import (
    MIB,
    REPO,
    GGUFClientFactory,
    admin_headers,
    hub_url,
    user_headers,
)
from tests.support.hub_server import Hub

Q8 = "tiny.Q8_0.gguf"


def models_dir(tmp_path: Path) -> Path:
    return tmp_path / "models"


def test_download_streams_progress_then_completes(
    gguf_client: TestClient, hub: Hub, tmp_path: Path
) -> None:
    h = admin_headers(gguf_client)
    hub.state.rate_bps = 8 * MIB  # several progress events
    body = start(gguf_client, h, hub_url(hub, Q8))
    assert body["status"] == "started" and body["joined"] is False
    assert body["task_id"].startswith("download_")
    assert body["websocket_url"] == f"/ws/gguf/download/{body['task_id']}"
    events = ws_events(gguf_client, h, body["task_id"])
    progress = [e for e in events if e["type"] == "progress"]
    assert progress and events[-1]["type"] == "completed", events[-3:]
    for e in progress:
        assert {"task_id", "downloaded_bytes", "total_bytes", "percentage", "speed_kbps"} <= set(e)
        assert "eta_seconds" in e and isinstance(e["timestamp"], float)
    assert [e["downloaded_bytes"] for e in progress] == sorted(
        e["downloaded_bytes"] for e in progress
    )
    done = events[-1]
    src = hub.root / REPO / Q8
    assert done["size_bytes"] == src.stat().st_size and done["filename"] == Q8
    assert done["message"] == "Download completed successfully"
    assert sha256(models_dir(tmp_path) / Q8) == sha256(src) == done["sha256"]
    assert leftovers(models_dir(tmp_path)) == []
    snap = status(gguf_client, h, body["task_id"])
    assert snap["status"] == "completed" and snap["percentage"] == 100.0
    local = gguf_client.get("/api/gguf/local", headers=h).json()["models"]
    (item,) = [m for m in local if m["name"] == Q8]
    assert item["quantization"] == "Q8_0" and item["architecture"] == "llama"
    assert item["source"]["repo_id"] == REPO
    # the same file again is a conflict, not an overwrite
    r = gguf_client.post("/api/gguf/download", json={"file_url": hub_url(hub, Q8)}, headers=h)
    assert_error(r, 409, "CONFLICT")


def test_file_from_a_subfolder_with_a_chosen_name(
    gguf_client: TestClient, hub: Hub, tmp_path: Path
) -> None:
    h = admin_headers(gguf_client)
    body = start(
        gguf_client, h, hub_url(hub, "sub/tiny.Q2_K.gguf"), filename="../../escape.Q2_K.gguf"
    )
    assert body["filename"] == "escape.Q2_K.gguf"  # sanitised: no path survives
    assert wait_done(gguf_client, h, body["task_id"])["status"] == "completed"
    assert model_names(models_dir(tmp_path)) == {"escape.Q2_K.gguf"}
    assert not (tmp_path / "escape.Q2_K.gguf").exists()


def test_refused_urls_never_reach_the_network(gguf_client: TestClient, hub: Hub) -> None:
    """No SSRF: only the configured hub origin; never other hosts, IP literals, creds."""
    h = admin_headers(gguf_client)
    port = hub.url.rsplit(":", 1)[1]
    bad = [
        "https://example.com/acme/tiny-GGUF/resolve/main/tiny.Q8_0.gguf",
        f"http://localhost:{port}/acme/tiny-GGUF/resolve/main/tiny.Q8_0.gguf",
        f"http://127.0.0.2:{port}/acme/tiny-GGUF/resolve/main/tiny.Q8_0.gguf",
        "http://169.254.169.254/latest/meta-data/x.gguf",
        "http://[::1]/acme/x/resolve/main/a.gguf",
        f"http://user:pw@127.0.0.1:{port}/acme/tiny-GGUF/resolve/main/tiny.Q8_0.gguf",
        "file:///etc/passwd",
        "gopher://127.0.0.1/x.gguf",
        f"{hub.url}/acme/tiny-GGUF/resolve/main/README.md",
        f"{hub.url}/acme/tiny-GGUF/resolve/main/../../../etc/passwd.gguf",
        f"{hub.url}/acme/tiny-GGUF",
        f"{hub.url}/acme/tiny-GGUF/resolve/main/tiny.Q8_0.gguf",  # valid URL, bad filename:
    ]
    for url in bad[:-1]:
        r = gguf_client.post("/api/gguf/download", json={"file_url": url}, headers=h)
        assert_error(r, 400, "VALIDATION_ERROR")
    r = gguf_client.post(
        "/api/gguf/download", json={"file_url": bad[-1], "filename": "x.txt"}, headers=h
    )
    assert_error(r, 400, "VALIDATION_ERROR")
    assert not hub.requests()


def test_redirects_to_private_or_foreign_hosts_are_refused(
    gguf_client_factory: GGUFClientFactory, hub: Hub, tmp_path: Path
) -> None:
    port = hub.url.rsplit(":", 1)[1]
    # "localhost" is an allowed CDN name here, but it resolves to a loopback address
    client = gguf_client_factory(gguf={"redirect_hosts": ["localhost", ".hf.co"]})
    h = admin_headers(client)
    targets = [
        "http://169.254.169.254/latest/meta-data/",  # IP literal
        f"https://localhost:{port}/{REPO}/resolve/main/{Q8}",  # allowed name, private address
        "https://evil.example.com/x.gguf",  # not an allowed host
        "http://cdn.hf.co/x.gguf",  # allowed host but not https
    ]
    for target in targets:
        hub.fault(REPO, Q8, redirect_to=target, times=1)
        task = start(client, h, hub_url(hub, Q8))
        events = ws_events(client, h, task["task_id"])
        assert events[-1]["type"] == "error", events
        assert events[-1]["error_code"] == "VALIDATION_ERROR", events[-1]
        assert "refused" in events[-1]["message"].lower()
    assert model_names(models_dir(tmp_path)) == set() and leftovers(models_dir(tmp_path)) == []


def test_checksum_mismatch_discards_the_file(
    gguf_client: TestClient, hub: Hub, tmp_path: Path
) -> None:
    h = admin_headers(gguf_client)
    hub.fault(REPO, Q8, corrupt=True, times=1)
    task = start(gguf_client, h, hub_url(hub, Q8))
    events = ws_events(gguf_client, h, task["task_id"])
    err = events[-1]
    assert err["type"] == "error" and err["error"] == "Checksum mismatch", err
    assert err["error_code"] == "CHECKSUM_MISMATCH" and err["resumable"] is False
    assert model_names(models_dir(tmp_path)) == set() and leftovers(models_dir(tmp_path)) == []


def test_dropped_connection_resumes_with_only_the_missing_range(
    gguf_client: TestClient, hub: Hub, tmp_path: Path
) -> None:
    h = admin_headers(gguf_client)
    size = (hub.root / REPO / Q8).stat().st_size
    hub.fault(REPO, Q8, drop_after=3 * MIB, times=1)
    task = start(gguf_client, h, hub_url(hub, Q8))
    snap = wait_done(gguf_client, h, task["task_id"])
    assert snap["status"] == "completed", snap
    gets = [e for e in hub.requests(Q8) if e.method == "GET"]
    assert [e.range_start for e in gets] == [None, 3 * MIB]
    assert sum(e.sent for e in gets) == size  # nothing re-transferred
    assert snap["transferred_bytes"] == size and snap["range_starts"] == [0, 3 * MIB]
    assert sha256(models_dir(tmp_path) / Q8) == sha256(hub.root / REPO / Q8)


def test_stalled_hub_times_out_and_resumes(
    gguf_client: TestClient, hub: Hub, tmp_path: Path
) -> None:
    h = admin_headers(gguf_client)
    hub.fault(REPO, Q8, stall_after=2 * MIB, stall_s=30, times=1)  # read timeout is 2 s
    task = start(gguf_client, h, hub_url(hub, Q8))
    snap = wait_done(gguf_client, h, task["task_id"])
    assert snap["status"] == "completed", snap
    assert snap["range_starts"] == [0, 2 * MIB]
    assert sha256(models_dir(tmp_path) / Q8) == sha256(hub.root / REPO / Q8)


def test_hub_that_keeps_stalling_fails_resumably_and_resumes_later(
    gguf_client_factory: GGUFClientFactory, hub: Hub, tmp_path: Path
) -> None:
    client = gguf_client_factory(gguf={"max_retries": 1, "read_timeout_s": 1})
    h = admin_headers(client)
    hub.fault(REPO, Q8, stall_after=MIB, stall_s=30)  # stalls at 1 MiB, every time
    task = start(client, h, hub_url(hub, Q8))
    err = ws_events(client, h, task["task_id"])[-1]
    assert err["type"] == "error" and err["resumable"] is True, err
    assert err["error_code"] == "UPSTREAM_TIMEOUT"
    assert err["downloaded_bytes"] == MIB
    assert model_names(models_dir(tmp_path)) == set()
    hub.state.faults.clear()
    again = start(client, h, hub_url(hub, Q8))  # the hub is healthy again
    assert again["task_id"] == task["task_id"]
    snap = wait_done(client, h, task["task_id"])
    assert snap["status"] == "completed" and snap["range_starts"][0] == MIB, snap
    assert sha256(models_dir(tmp_path) / Q8) == sha256(hub.root / REPO / Q8)
    assert leftovers(models_dir(tmp_path)) == []


def test_cancel_stops_the_transfer_and_removes_the_partial_file(
    gguf_client: TestClient, hub: Hub, tmp_path: Path
) -> None:
    h = admin_headers(gguf_client)
    hub.fault(REPO, Q8, gate_after=MIB)
    task = start(gguf_client, h, hub_url(hub, Q8))
    tid = task["task_id"]
    wait_until(gguf_client, h, tid, lambda s: s["downloaded_bytes"] >= MIB)
    r = gguf_client.post(f"/api/gguf/download/{tid}/cancel", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    assert ws_events(gguf_client, h, tid)[-1]["type"] == "cancelled"
    assert model_names(models_dir(tmp_path)) == set() and leftovers(models_dir(tmp_path)) == []
    hub.release()
    # cancelling again is harmless
    assert gguf_client.delete(f"/api/gguf/download/{tid}", headers=h).status_code == 200


def test_same_file_twice_joins_and_per_user_limit(
    gguf_client: TestClient, hub: Hub, tmp_path: Path
) -> None:
    h = admin_headers(gguf_client)
    for rel in (Q8, "tiny.Q4_K_M.gguf", "sub/tiny.Q2_K.gguf"):
        hub.fault(REPO, rel, gate_after=MIB)
    first = start(gguf_client, h, hub_url(hub, Q8))
    again = start(gguf_client, h, hub_url(hub, Q8))
    assert again["task_id"] == first["task_id"] and again["joined"] is True
    start(gguf_client, h, hub_url(hub, "tiny.Q4_K_M.gguf"))
    r = gguf_client.post(
        "/api/gguf/download", json={"file_url": hub_url(hub, "sub/tiny.Q2_K.gguf")}, headers=h
    )
    body = assert_error(r, 429, "RATE_LIMITED")
    assert "2 concurrent" in body["detail"] and r.headers["X-RateLimit-Limit"] == "2"
    hub.release()
    for tid in (first["task_id"],):
        assert wait_done(gguf_client, h, tid)["status"] == "completed"
    assert len([e for e in hub.requests(Q8) if e.method == "GET"]) == 1  # one transfer


def test_storage_limits_refuse_before_writing(
    gguf_client_factory: GGUFClientFactory, hub: Hub, tmp_path: Path
) -> None:
    quota = gguf_client_factory(gguf={"max_storage_bytes": 1 * MIB})  # "disk full"
    h = admin_headers(quota)
    r = quota.post("/api/gguf/download", json={"file_url": hub_url(hub, Q8)}, headers=h)
    assert_error(r, 507, "INSUFFICIENT_STORAGE")
    reserve = gguf_client_factory(gguf={"reserve_free_bytes": 1 << 60})
    r = reserve.post("/api/gguf/download", json={"file_url": hub_url(hub, Q8)}, headers=h)
    assert_error(r, 507, "INSUFFICIENT_STORAGE")
    limit = gguf_client_factory(gguf={"max_download_bytes": MIB})
    r = limit.post("/api/gguf/download", json={"file_url": hub_url(hub, Q8)}, headers=h)
    assert_error(r, 400, "VALIDATION_ERROR")
    assert model_names(models_dir(tmp_path)) == set() and leftovers(models_dir(tmp_path)) == []
    assert not [e for e in hub.requests(Q8) if e.method == "GET"]


def test_missing_files_and_non_gguf_content(
    gguf_client: TestClient, hub: Hub, tmp_path: Path
) -> None:
    h = admin_headers(gguf_client)
    r = gguf_client.post(
        "/api/gguf/download", json={"file_url": hub_url(hub, "nope.Q4_K_M.gguf")}, headers=h
    )
    assert_error(r, 404, "MODEL_NOT_FOUND")
    r = gguf_client.post(
        "/api/gguf/download",
        json={"file_url": hub_url(hub, Q8, repo="acme/missing")},
        headers=h,
    )
    assert_error(r, 404, "MODEL_NOT_FOUND")
    fake = start(gguf_client, h, hub_url(hub, "fake.Q4_K_M.gguf", repo="acme/fake-GGUF"))
    err = ws_events(gguf_client, h, fake["task_id"])[-1]
    assert err["type"] == "error" and err["error"] == "Invalid GGUF", err
    hub.fault(REPO, Q8, status=404)  # gone between resolve and transfer
    gone = start(gguf_client, h, hub_url(hub, Q8))
    err = ws_events(gguf_client, h, gone["task_id"])[-1]
    assert err["type"] == "error" and err["error_code"] == "MODEL_NOT_FOUND", err
    assert model_names(models_dir(tmp_path)) == set() and leftovers(models_dir(tmp_path)) == []


def test_permissions_and_task_visibility(gguf_client_factory: GGUFClientFactory, hub: Hub) -> None:
    client = gguf_client_factory()
    admin, user = admin_headers(client), user_headers(client)
    r = client.post("/api/gguf/download", json={"file_url": hub_url(hub, Q8)}, headers=user)
    assert_error(r, 403, "PERMISSION_DENIED")
    assert_error(client.post("/api/gguf/download", json={"file_url": "x"}), 401, "AUTH_REQUIRED")
    task = start(client, admin, hub_url(hub, Q8))
    assert_error(
        client.get(f"/api/gguf/download/{task['task_id']}", headers=user), 404, "NOT_FOUND"
    )
    assert_error(client.get("/api/gguf/download/download_nope", headers=admin), 404, "NOT_FOUND")
    assert client.get("/api/gguf/downloads", headers=user).json()["tasks"] == []
    tasks = client.get("/api/gguf/downloads", headers=admin).json()["tasks"]
    assert [t["task_id"] for t in tasks] == [task["task_id"]]
    # downloads opened to every user by configuration
    open_client = gguf_client_factory(gguf={"admin_only": False})
    u = user_headers(open_client)
    mine = start(open_client, u, hub_url(hub, "tiny.Q4_K_M.gguf"))
    assert status(open_client, u, mine["task_id"])["owners"]
    wait_done(open_client, u, mine["task_id"])
    wait_done(client, admin, task["task_id"])
