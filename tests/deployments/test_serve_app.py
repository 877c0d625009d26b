"""The real Serve app on a local Ray, through the Serve HTTP proxy."""

from __future__ import annotations

import os
import time

import httpx
import pytest

from tests.support.live import LiveServer, client_from, source_address

pytestmark = pytest.mark.slow


def test_health_and_auth_through_serve(live_server: LiveServer) -> None:
    with client_from(live_server.url, "s@example.com", timeout=30) as c:
        assert c.get("/health").json()["status"] == "healthy"
        health = c.get("/api/health").json()
        assert health["ready"] is True and health["progress"] == 100
        r = c.post("/api/auth/register", json={"email": "s@example.com", "password": "password1"})
        assert r.status_code == 201
        r = c.post("/api/auth/login", json={"email": "s@example.com", "password": "password1"})
        assert r.status_code == 200
        assert c.get("/api/auth/me").json()["email"] == "s@example.com"  # cookie auth
        info = c.get("/api/system/info").json()
        ray_info = info["ray"]
        assert ray_info["connected"] is True and ray_info["cpus"] > 0
        assert ray_info["nodes"][0]["alive"] is True
        assert ray_info["deployments"]["Ingress"]["replicas"] == 2
        # one node by default; make test-cluster: 3 nodes and PostgreSQL
        cluster_nodes = int(os.environ.get("LMWEBUI_TEST_CLUSTER_NODES", "0") or 0)
        assert sum(n["alive"] for n in ray_info["nodes"]) == max(cluster_nodes, 1)
        assert info["database"]["type"] == ("postgresql" if cluster_nodes > 1 else "sqlite")
        r = c.post("/api/auth/refresh")
        assert r.status_code == 200
        assert c.post("/api/auth/logout").status_code == 200
        missing = c.get("/api/nope")
        assert missing.status_code == 404 and missing.json()["error_code"] == "NOT_FOUND"


def _until_both_replicas_serve(url: str, timeout: float = 120) -> None:
    """Right after start the proxy may route to one replica only (the other not yet
    passed its health checks): wait, within a bound, until both answer."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < 2 and time.monotonic() < deadline:
        seen.add(httpx.get(f"{url}/health", timeout=30).headers["x-served-by"])
        time.sleep(0.1)
    assert len(seen) == 2, f"only {seen} served within {timeout}s"


def test_two_ingress_replicas_share_rate_limit_state(live_server: LiveServer) -> None:
    _until_both_replicas_serve(live_server.url)
    served_by: set[str] = set()
    codes = []
    body = {"email": "limit@example.com", "password": "password1"}
    attacker = source_address(live_server.url, "limit@example.com")
    for i in range(40):
        # a fresh connection per request so the proxy spreads requests over both replicas;
        # the forged headers change nothing (HAProxy replaces them; the key is wrong anyway)
        with httpx.Client(transport=httpx.HTTPTransport(local_address=attacker)) as c:
            r = c.post(
                f"{live_server.url}/api/auth/login",
                json=body,
                timeout=30,
                headers={
                    "X-Forwarded-For": f"198.51.100.{i}",
                    "X-Lmwebui-Peer": f"203.0.113.{i}",
                    "X-Lmwebui-Proxy-Key": "0" * 64,
                },
            )
        codes.append(r.status_code)
        if "x-served-by" in r.headers:  # a 429 too: the replica's limiter answered it
            served_by.add(r.headers["x-served-by"])
    # 30/minute per client address, counted once across both replicas. With per-process
    # counters, 40 requests over two replicas would let more than 30 through whatever the
    # split, as long as each replica saw one.
    assert len(served_by) == 2, "both replicas answered"
    assert codes.count(401) + codes.count(200) <= 30
    assert codes[-1] == 429
    # ... and only that address is limited: behind HAProxy the replicas' peer is HAProxy for
    # every client, so the limit must key on the address HAProxy saw (api/peer.py), or one
    # client's guessing would lock every user out of signing in
    with client_from(live_server.url, "bystander@example.com", timeout=30) as c:
        assert c.post("/api/auth/login", json=body).status_code == 401
