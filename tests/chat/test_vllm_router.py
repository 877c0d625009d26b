"""Several vLLM models, each its own Serve app on its own route (vllm.models; the live app:
tests/deployments/test_vllm_serve.py): requests reach the app of their model through
/api/chat and /v1, with the platform's key; /v1/models lists every app's model; an unknown
model is refused before anything is sent; /api/health waits for every app.

A fake OpenAI server stands in for the platform's HTTP port (what the ingress reaches the
apps through), so the routes it is asked for are the apps a real proxy would pick."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.api import assert_error, login_as
from tests.support.app import ClientFactory
from tests.support.upstream import ANSWER, FakeUpstream, fake_upstream
from tests.support.vllm import app_headers

MODELS = [
    {"model_id": "alpha", "model_source": "/models/a", "device": "cpu"},
    {"model_id": "beta", "model_source": "/models/b", "device": "cpu", "max_model_len": 1024},
]


@pytest.fixture
def apps() -> Iterator[FakeUpstream]:
    with fake_upstream() as server:
        server.models_by_route = {"/vllm": "alpha", "/vllm-1": "beta"}
        yield server


@pytest.fixture
def client(client_factory: ClientFactory, apps: FakeUpstream) -> TestClient:
    return client_factory(
        rate_limits={"enabled": False}, http_port=apps.port, vllm={"models": MODELS}
    )


def _v1(client: TestClient, key: str, model: str) -> tuple[int, dict[str, object]]:
    r = client.post(
        "/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
    )
    return r.status_code, r.json()


def _api_key(client: TestClient) -> str:
    h = login_as(client, "router@example.com")
    r = client.post("/api/api-keys", headers=h, json={"name": "router"})
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


def test_each_model_goes_to_its_own_app(
    client: TestClient, apps: FakeUpstream, tmp_path: Path
) -> None:
    key = _api_key(client)
    expected_key = app_headers(tmp_path / "data")["Authorization"]  # make_settings' data dir
    for model, path in (("vllm/beta", "/vllm-1/v1"), ("vllm/alpha", "/vllm/v1")):
        status, body = _v1(client, key, model)
        assert status == 200, body
        assert body["choices"][0]["message"]["content"] == ANSWER  # type: ignore[index]
        sent = apps.received[-1]
        assert sent.path == f"{path}/chat/completions"
        assert sent.headers["authorization"] == expected_key  # the apps' key, not the user's
        assert json.loads(sent.body)["model"] == model.removeprefix("vllm/")
    # no model: the first app's
    h = login_as(client, "router@example.com")
    r = client.post("/api/chat", headers=h, json={"message": "hi", "provider": "vllm"})
    assert r.status_code == 200, r.text
    assert apps.received[-1].path == "/vllm/v1/chat/completions"


def test_an_unknown_model_is_refused_before_any_app_is_asked(
    client: TestClient, apps: FakeUpstream
) -> None:
    key = _api_key(client)
    sent = len(apps.received)
    r = client.post(
        "/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": "vllm/gamma", "messages": [{"role": "user", "content": "hi"}]},
    )
    body = assert_error(r, 404, "MODEL_NOT_FOUND")
    assert "vllm/alpha, vllm/beta" in body["detail"]
    h = login_as(client, "router@example.com")
    r = client.post(
        "/api/chat", headers=h, json={"message": "hi", "provider": "vllm", "model": "gamma"}
    )
    assert_error(r, 404, "MODEL_NOT_FOUND")
    assert len(apps.received) == sent


def test_models_and_health_cover_every_app(client: TestClient, apps: FakeUpstream) -> None:
    key = _api_key(client)
    r = client.get("/v1/models", headers={"Authorization": f"Bearer {key}"})
    ids = [m["id"] for m in r.json()["data"]]
    assert {"vllm/alpha", "vllm/beta"} <= set(ids)
    listed = {rec.path for rec in apps.received if rec.path.endswith("/models")}
    assert listed == {"/vllm/v1/models", "/vllm-1/v1/models"}
    body = client.get("/api/health").json()
    assert body["ready"] is True and body["components"]["vllm"] is True
    apps.fail_with(503)  # every app deploying again (a replica being replaced)
    body = client.get("/api/health").json()
    assert body["components"]["vllm"] is False and body["ready"] is False
