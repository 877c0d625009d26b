"""What a fuzzer found (#13 finding 3), through HTTP: an overflowing page is a 400, not a
500; what the server enforces is published in /openapi.json (so a request valid by the
schema is accepted, one past a published bound refused); the /v1 bodies are strictly typed
(a number is not a boolean); a 405 says in ``Allow`` what the path does serve."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.support.api import assert_error, login_as
from tests.support.app import ClientFactory
from tests.support.engines import DEFAULT_MODEL, ScriptedEngine
from tests.support.fake_rag import fake_rag_runtime

LIMITS = {"max_tokens_limit": 100, "max_message_chars": 50}


def _app(client_factory: ClientFactory) -> tuple[TestClient, dict[str, str]]:
    client = client_factory(
        fake_rag_runtime({"gguf": ScriptedEngine(["Sure."])}),
        rate_limits={"enabled": False},
        chat=LIMITS,
        rag={"max_search_limit": 7, "max_embedding_inputs": 3},
    )
    return client, login_as(client, "bounds@example.com")


def _prop(spec: dict[str, Any], model: str, field: str) -> dict[str, Any]:
    prop: dict[str, Any] = spec["components"]["schemas"][model]["properties"][field]
    return prop


def _param(spec: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    params = spec["paths"][path][method]["parameters"]
    schema: dict[str, Any] = next(p["schema"] for p in params if p["name"] == name)
    return schema


def test_an_overflowing_page_is_a_400(client_factory: ClientFactory) -> None:
    client, h = _app(client_factory)
    for page in ("85720563493631648858112", "9223372036854775808", "0", "-1"):
        r = client.get(f"/api/conversations?limit=58&page={page}", headers=h)
        assert_error(r, 400, "VALIDATION_ERROR")
    page = _param(client.get("/openapi.json").json(), "/api/conversations", "get", "page")
    assert page["minimum"] == 1 and page["maximum"] < 2**31


def test_the_configured_bounds_are_published_and_held(client_factory: ClientFactory) -> None:
    client, h = _app(client_factory)
    spec = client.get("/openapi.json").json()
    assert _prop(spec, "ChatRequest", "max_tokens")["anyOf"][0]["maximum"] == 100
    assert _prop(spec, "ChatRequest", "message")["maxLength"] == 50
    assert _prop(spec, "ChatCompletionRequest", "max_tokens")["anyOf"][0]["maximum"] == 100
    assert _prop(spec, "ChatMessage", "content")["maxLength"] == 50
    assert _param(spec, "/api/rag/search", "get", "limit")["maximum"] == 7
    embed = _prop(spec, "EmbeddingsRequest", "input")["anyOf"]
    assert [b.get("maxItems") for b in embed] == [None, 3]
    # the edge of each bound: accepted on it, refused past it
    ok = client.post("/api/chat", json={"message": "x" * 50, "max_tokens": 100}, headers=h)
    assert ok.status_code == 200, ok.text
    for body in ({"message": "x" * 51}, {"message": "hi", "max_tokens": 101}):
        assert_error(client.post("/api/chat", json=body, headers=h), 400, "VALIDATION_ERROR")


def test_names_the_server_checks_are_published(client_factory: ClientFactory) -> None:
    client, h = _app(client_factory)
    spec = client.get("/openapi.json").json()
    for path, method in (
        ("/api/gguf/{model_name}", "delete"),
        ("/api/gguf/compatibility/{model_name}", "get"),
    ):
        name = _param(spec, path, method, "model_name")
        pattern = re.compile(name["pattern"])
        assert pattern.search("tiny.Q4_K_M.gguf") and pattern.search("tiny.Q4_K_M")
        assert name["maxLength"] == 195  # 200 with ".gguf"
        for bad in ("..gguf", "a..b.gguf", "a.", ".hidden.gguf", "Øà", "a" * 201):
            assert not pattern.search(bad) or len(bad) > name["maxLength"], bad
            r = client.get(f"/api/gguf/compatibility/{bad}", headers=h)
            assert_error(r, 400, "VALIDATION_ERROR")
    for method in ("put", "delete"):
        assert _param(spec, "/api/providers/{provider}/key", method, "provider")["enum"] == [
            "openai"
        ]
    provider = _prop(spec, "ChatRequest", "provider")
    assert {"gguf", "openai", "vllm"} <= set(provider["enum"])
    assert _prop(spec, "ChatRequest", "message")["pattern"] == r"\S"


def test_v1_bodies_are_strictly_typed(client_factory: ClientFactory) -> None:
    client, h = _app(client_factory)
    base = {"model": DEFAULT_MODEL, "messages": [{"role": "user", "content": "hi"}]}
    for wrong in ({"stream": 0}, {"stream": "true"}, {"max_tokens": "5"}, {"seed": 1.5}):
        r = client.post("/v1/chat/completions", json={**base, **wrong}, headers=h)
        field = next(iter(wrong))
        body = assert_error(r, 400, "VALIDATION_ERROR")
        assert [f["field"] for f in body["fields"]] == [field], (wrong, body)
    bad_message = {**base, "messages": [{"role": "user", "content": 5}]}
    r = client.post("/v1/chat/completions", json=bad_message, headers=h)
    assert_error(r, 400, "VALIDATION_ERROR")
    for wrong in ({"dimensions": "384"}, {"input": 5}, {"input": []}):
        body_e = {"model": "m", "input": "hi", **wrong}
        assert_error(client.post("/v1/embeddings", json=body_e, headers=h), 400, "VALIDATION_ERROR")
    # an integer is still a number, and a real boolean still works
    r = client.post(
        "/v1/chat/completions", json={**base, "temperature": 1, "stream": False}, headers=h
    )
    assert r.status_code == 200, r.text


def test_a_405_names_every_method_of_the_path(client_factory: ClientFactory) -> None:
    client, h = _app(client_factory)
    cases = {
        ("OPTIONS", "/api/auth/me"): "GET, DELETE",
        ("PUT", "/api/auth/me"): "GET, DELETE",
        ("OPTIONS", "/v1/chat/completions"): "POST",
        ("PATCH", "/api/conversations/abc"): "GET, DELETE",
        ("POST", "/api/gguf/x.gguf"): "DELETE",
    }
    for (method, path), allow in cases.items():
        r = client.request(method, path, headers=h)
        assert_error(r, 405, "METHOD_NOT_ALLOWED")
        assert r.headers["allow"] == allow, (method, path, r.headers.get("allow"))
