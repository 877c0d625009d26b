"""POST /api/chat and /api/conversations with the real bundled GGUF model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lmwebui.api.services import Runtime
from lmwebui.chat.engines.base import ChatEngine
from lmwebui.chat.protocol import ChatCompletionChunk, ChatCompletionRequest, ModelCard
from lmwebui.inference.builder import build_gguf_engine
from lmwebui.settings import Settings
from tests.support.api import assert_error, login_as
from tests.support.app import app_client, make_settings
from tests.support.models import models_dir_with_bundled

GREEDY = {"temperature": 0, "max_tokens": 12}


def test_chat_creates_and_continues_a_conversation(chat_client: TestClient) -> None:
    h = login_as(chat_client, "chat@example.com")
    r = chat_client.post(
        "/api/chat", json={"message": "The capital of France is", **GREEDY}, headers=h
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["response"].strip(), body
    assert body["conversation_id"].startswith("conv_")
    assert (
        body["tokens_used"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
    )
    assert 0 < body["usage"]["completion_tokens"] <= 12
    assert body["processing_time"] > 0
    assert body["provider"] == "gguf" and body["model"].endswith(".gguf")
    cid = body["conversation_id"]

    r2 = chat_client.post(
        "/api/chat", json={"message": "And of Italy?", "conversation_id": cid, **GREEDY}, headers=h
    )
    assert r2.status_code == 200 and r2.json()["conversation_id"] == cid
    # the second turn saw the first: its prompt is longer than the first turn's
    assert r2.json()["usage"]["prompt_tokens"] > body["usage"]["prompt_tokens"]

    conv = chat_client.get(f"/api/conversations/{cid}", headers=h).json()["conversation"]
    assert conv["title"] == "The capital of France is"
    assert [m["role"] for m in conv["messages"]] == ["user", "assistant", "user", "assistant"]
    assert conv["messages"][1]["content"] == body["response"]
    assert conv["messages"][0]["timestamp"].endswith("Z")


def test_max_tokens_honoured(chat_client: TestClient) -> None:
    # Exact greedy reproducibility across batch shapes is the engine's deterministic mode,
    # tested in tests/inference/engine; the default (fast) mode only promises max_tokens here.
    h = login_as(chat_client, "det@example.com")
    req = {"message": "Count: one, two, three,", "temperature": 0, "max_tokens": 5}
    a = chat_client.post("/api/chat", json=req, headers=h).json()
    assert 0 < a["usage"]["completion_tokens"] <= 5


def test_bad_chat_requests(chat_client: TestClient) -> None:
    h = login_as(chat_client, "bad@example.com")

    def post(**kw: object) -> object:
        return chat_client.post("/api/chat", json={"message": "hi", **kw}, headers=h)

    assert_error(post(model="no-such-model"), 404, "MODEL_NOT_FOUND")
    assert_error(post(model="../../etc/passwd"), 404, "MODEL_NOT_FOUND")
    assert_error(post(provider="nope"), 400, "VALIDATION_ERROR")
    assert_error(post(provider="openai"), 400, "VALIDATION_ERROR")  # no key configured
    assert_error(post(max_tokens=0), 400, "VALIDATION_ERROR")
    assert_error(post(max_tokens=10**9), 400, "VALIDATION_ERROR")
    assert_error(post(temperature=7), 400, "VALIDATION_ERROR")
    assert_error(post(message=""), 400, "VALIDATION_ERROR")
    assert_error(post(message="   "), 400, "VALIDATION_ERROR")
    # beyond the model's context window (1024 tokens here): a clear 400, not a crash
    body = assert_error(post(message="word " * 3000), 400, "VALIDATION_ERROR")
    assert "context window" in body["detail"]
    assert_error(post(message="x" * 200_001), 400, "VALIDATION_ERROR")
    assert_error(chat_client.post("/api/chat", json={"message": "hi"}), 401, "AUTH_REQUIRED")
    # nothing was persisted by the failures
    assert chat_client.get("/api/conversations", headers=h).json()["conversations"] == []


def test_invalid_gguf_file(chat_client: TestClient) -> None:
    h = login_as(chat_client, "badfile@example.com")
    models_dir = Path(chat_client.app.state.services.settings.resolved_models_dir)  # type: ignore[attr-defined]
    (models_dir / "broken.gguf").write_bytes(b"not a gguf at all" * 10)
    r = chat_client.post("/api/chat", json={"message": "hi", "model": "broken.gguf"}, headers=h)
    assert_error(r, 400, "MODEL_INVALID")
    # and the default model still works afterwards
    ok = chat_client.post("/api/chat", json={"message": "hi", **GREEDY}, headers=h)
    assert ok.status_code == 200


def test_conversations_are_private(chat_client: TestClient) -> None:
    alice = login_as(chat_client, "alice@example.com")
    bob = login_as(chat_client, "bob@example.com")
    cid = chat_client.post("/api/chat", json={"message": "secret", **GREEDY}, headers=alice).json()[
        "conversation_id"
    ]
    assert_error(chat_client.get(f"/api/conversations/{cid}", headers=bob), 404, "NOT_FOUND")
    assert_error(chat_client.delete(f"/api/conversations/{cid}", headers=bob), 404, "NOT_FOUND")
    r = chat_client.post(
        "/api/chat", json={"message": "x", "conversation_id": cid, **GREEDY}, headers=bob
    )
    assert_error(r, 404, "NOT_FOUND")
    assert chat_client.get("/api/conversations", headers=bob).json()["conversations"] == []
    # alice still has it, intact
    conv = chat_client.get(f"/api/conversations/{cid}", headers=alice).json()["conversation"]
    assert len(conv["messages"]) == 2
    assert chat_client.delete(f"/api/conversations/{cid}", headers=alice).json() == {
        "status": "success",
        "message": "Conversation deleted",
    }
    assert_error(chat_client.get(f"/api/conversations/{cid}", headers=alice), 404, "NOT_FOUND")


def test_conversation_list_pagination(chat_client: TestClient) -> None:
    h = login_as(chat_client, "pages@example.com")
    ids = []
    for i in range(3):
        r = chat_client.post(
            "/api/chat",
            json={"message": f"topic {i}", "temperature": 0, "max_tokens": 2},
            headers=h,
        )
        ids.append(r.json()["conversation_id"])
    r = chat_client.get("/api/conversations?page=1&limit=2", headers=h)
    assert r.headers["X-Total-Count"] == "3" and r.headers["X-Total-Pages"] == "2"
    assert r.headers["X-Current-Page"] == "1" and r.headers["X-Per-Page"] == "2"
    first = [c["id"] for c in r.json()["conversations"]]
    assert first == [ids[2], ids[1]]  # newest first
    second = chat_client.get("/api/conversations?page=2&limit=2", headers=h).json()
    assert [c["id"] for c in second["conversations"]] == [ids[0]]
    c = second["conversations"][0]
    assert c["message_count"] == 2 and c["title"] == "topic 0"
    assert_error(
        chat_client.get("/api/conversations?limit=101", headers=h), 400, "VALIDATION_ERROR"
    )
    assert_error(chat_client.get("/api/conversations?page=0", headers=h), 400, "VALIDATION_ERROR")


def test_deep_thinking_and_raw_response(chat_client: TestClient) -> None:
    h = login_as(chat_client, "think@example.com")
    r = chat_client.post(
        "/api/chat",
        json={
            "message": "Why is the sky blue?",
            "deep_thinking_mode": True,
            "show_raw_response": True,
            "temperature": 0,
            "max_tokens": 40,
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    steps = body["reasoning_steps"]
    assert steps, "a reasoning pass produced steps"
    for i, step in enumerate(steps, start=1):
        assert step["step_index"] == i
        assert {"step_type", "title", "content", "metadata"} <= step.keys()
        assert step["type"] == "reasoning_step"
    assert body["raw_response"].startswith("<think>")
    assert body["raw_response"].endswith(body["response"])


@pytest.mark.parametrize("provider", ["llama.cpp", "local", "GGUF"])
def test_provider_aliases(chat_client: TestClient, provider: str) -> None:
    h = login_as(chat_client, "alias@example.com")
    r = chat_client.post(
        "/api/chat", json={"message": "hi", "provider": provider, "max_tokens": 2}, headers=h
    )
    assert r.status_code == 200 and r.json()["provider"] == "gguf"


class RecordingEngine(ChatEngine):
    """The real GGUF engine, recording the requests it receives."""

    def __init__(self, inner: ChatEngine) -> None:
        self.inner = inner
        self.capabilities = inner.capabilities
        self.requests: list[ChatCompletionRequest] = []

    def resolve_model(self, name: str | None) -> str:
        return self.inner.resolve_model(name)

    async def stream(self, request: ChatCompletionRequest) -> AsyncIterator[ChatCompletionChunk]:
        self.requests.append(request)
        async for chunk in self.inner.stream(request):
            yield chunk

    async def models(self) -> list[ModelCard]:
        return await self.inner.models()


def test_every_turn_carries_the_conversation_id_as_affinity_key(tmp_path: Path) -> None:
    """Replica affinity (deployments/routing.py) keys on request.user: turn 1 must already
    use the id the conversation is stored under, or turn 2 lands on a cold replica."""
    seen: list[RecordingEngine] = []

    def engines(s: Settings) -> dict[str, ChatEngine]:
        engine, _pool = build_gguf_engine(s)
        seen.append(RecordingEngine(engine))
        return {"gguf": seen[-1]}

    settings = make_settings(
        tmp_path,
        models_dir=models_dir_with_bundled(tmp_path / "models"),
        rate_limits={"enabled": False},
        chat={"n_slots": 2, "n_ctx_per_slot": 1024},
    )
    with app_client(settings, Runtime(chat_engines=engines)) as client:
        h = login_as(client, "affinity@example.com")
        first = client.post("/api/chat", json={"message": "Hello", **GREEDY}, headers=h).json()
        cid = first["conversation_id"]
        second = client.post(
            "/api/chat", json={"message": "Again", "conversation_id": cid, **GREEDY}, headers=h
        )
        assert second.status_code == 200, second.text
    assert [r.user for r in seen[0].requests] == [cid, cid]
