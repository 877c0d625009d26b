"""/health, /api/health and /api/system/info."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from lmwebui.api.services import Runtime
from lmwebui.system.cluster import LocalCluster
from tests.support.api import assert_error, register_and_login
from tests.support.app import ClientFactory
from tests.support.live import free_port
from tests.support.upstream import fake_upstream


def test_health(client_factory: ClientFactory) -> None:
    c = client_factory()
    assert c.get("/health").json() == {"status": "healthy", "auth": "jwt", "encryption": "fernet"}
    body = c.get("/api/health").json()
    assert body["ready"] is True and body["status"] == "ready" and body["progress"] == 100
    assert body["message"] == "System Online" and body["error"] is None


def test_readiness_reports_progress_of_components(client_factory: ClientFactory) -> None:
    state = {"chat": False}

    async def chat_ready() -> bool:
        return state["chat"]

    c = client_factory(Runtime(cluster=LocalCluster({"ChatGGUF": chat_ready})))
    body = c.get("/api/health").json()
    assert body["ready"] is False and body["status"] == "starting"
    assert body["progress"] == 50 and "ChatGGUF" in body["message"]
    state["chat"] = True
    assert c.get("/api/health").json()["ready"] is True


def test_health_error_says_what_failed(client_factory: ClientFactory) -> None:
    async def crashed() -> bool:
        raise RuntimeError("replica on 10.1.2.3 died")  # the detail stays in the log

    async def hangs() -> bool:
        await asyncio.sleep(30)
        return True

    async def starting() -> bool:
        return False

    async def fine() -> bool:
        return True

    probes = {"Embedder": crashed, "Retriever": hangs, "ChatGGUF": starting, "Documents": fine}
    c = client_factory(Runtime(cluster=LocalCluster(probes)))
    body = c.get("/api/health").json()
    assert body["ready"] is False and body["progress"] == 40
    assert body["error"] == (
        "Embedder: readiness probe failed (RuntimeError); "
        "Retriever: no answer to the readiness probe within 2 s"
    )
    assert "ChatGGUF" in body["message"] and "10.1.2.3" not in str(body)
    assert body["components"] == {
        "database": True,
        "Embedder": False,
        "Retriever": False,
        "ChatGGUF": False,
        "Documents": True,
    }


def test_system_info(client: TestClient, database_url: str) -> None:
    assert_error(client.get("/api/system/info"), 401, "AUTH_REQUIRED")
    register_and_login(client)
    info = client.get("/api/system/info").json()
    assert info["version"] == "0.1.0"
    assert info["platform"] == "Linux"
    hw = info["hardware"]
    assert hw["backend"] in ("cpu", "cuda") and hw["system_ram_mb"] > 0
    db = info["database"]
    url = make_url(database_url)
    if db["type"] == "sqlite":
        assert db["path"] == url.database
    else:  # the documented path on PostgreSQL too: where, never who
        assert db["path"] == f"{url.host}:{url.port}/{url.database}"
        assert db["type"] == "postgresql"
    assert "password" not in str(db) and "postgres@" not in str(db)
    assert info["ray"]["connected"] is False


def test_a_vllm_server_is_a_component_of_readiness(client_factory: ClientFactory) -> None:
    """The vLLM engine is served over HTTP, outside the cluster's deployments: /api/health
    asks it for its models. 404/503 (deploying, replica being replaced) is starting, not
    an error; a server that cannot be reached is an error; neither leaks the upstream's text."""
    with fake_upstream() as vllm:
        c = client_factory(chat={"vllm_base_url": vllm.url})
        body = c.get("/api/health").json()
        assert body["ready"] is True and body["components"]["vllm"] is True
        assert vllm.received[-1].path == "/v1/models"

        vllm.fail_with(503)
        body = c.get("/api/health").json()
        assert body["ready"] is False and body["status"] == "starting"
        assert body["components"]["vllm"] is False and "vllm" in body["message"]
        assert body["error"] is None

        vllm.fail_with(500)
        body = c.get("/api/health").json()
        assert body["ready"] is False
        assert body["error"] == "vllm: readiness probe failed (UpstreamError)"
        assert "upstream-internal" not in str(body)

    closed = f"http://127.0.0.1:{free_port()}/v1"
    body = client_factory(chat={"vllm_base_url": closed}).get("/api/health").json()
    assert body["components"]["vllm"] is False
    assert body["error"] == "vllm: readiness probe failed (UpstreamError)"


def test_without_vllm_there_is_no_vllm_component(client_factory: ClientFactory) -> None:
    assert "vllm" not in client_factory().get("/api/health").json()["components"]
