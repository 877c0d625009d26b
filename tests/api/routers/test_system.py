"""/health, /api/health and /api/system/info."""

from __future__ import annotations

from fastapi.testclient import TestClient

from lmwebui.api.services import Runtime
from lmwebui.system.cluster import LocalCluster
from tests.support.api import assert_error, register_and_login
from tests.support.app import ClientFactory


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


def test_system_info(client: TestClient) -> None:
    assert_error(client.get("/api/system/info"), 401, "AUTH_REQUIRED")
    register_and_login(client)
    info = client.get("/api/system/info").json()
    assert info["version"] == "0.1.0"
    assert info["platform"] == "Linux"
    hw = info["hardware"]
    assert hw["backend"] in ("cpu", "cuda") and hw["system_ram_mb"] > 0
    db = info["database"]
    assert db["type"] in ("sqlite", "postgresql")
    assert "password" not in str(db) and "postgres@" not in str(db)
    assert info["ray"]["connected"] is False
