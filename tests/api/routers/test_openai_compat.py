"""/v1/models and /v1/chat/completions through the official openai SDK, plus API keys."""

from __future__ import annotations

import openai
import pytest
from fastapi.testclient import TestClient

from tests.support.api import assert_error, login_as


def sdk(client: TestClient, key: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=str(client.base_url) + "/v1", api_key=key, http_client=client, max_retries=0
    )


def bearer(h: dict[str, str]) -> str:
    return h["Authorization"].removeprefix("Bearer ")


def test_models_and_completion_with_jwt(chat_client: TestClient) -> None:
    h = login_as(chat_client, "v1@example.com")
    api = sdk(chat_client, bearer(h))
    ids = [m.id for m in api.models.list().data]
    assert "gemma3-270m-q4_k_m.gguf" in ids
    out = api.chat.completions.create(
        model="gemma3-270m-q4_k_m.gguf",
        messages=[{"role": "user", "content": "Hello"}],
        temperature=0,
        max_tokens=8,
    )
    assert out.choices[0].message.role == "assistant"
    assert out.choices[0].message.content
    assert out.usage is not None and 0 < out.usage.completion_tokens <= 8
    assert out.usage.total_tokens == out.usage.prompt_tokens + out.usage.completion_tokens


def test_streaming_matches_non_streaming(chat_client: TestClient) -> None:
    h = login_as(chat_client, "v1s@example.com")
    api = sdk(chat_client, bearer(h))
    kw = {
        "model": "gemma3-270m-q4_k_m",
        "messages": [{"role": "user", "content": "Say hi"}],
        "temperature": 0,
        "max_tokens": 10,
    }
    full = api.chat.completions.create(**kw)  # type: ignore[call-overload]
    parts, usage = [], None
    stream = api.chat.completions.create(  # type: ignore[call-overload]
        stream=True, stream_options={"include_usage": True}, **kw
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
        usage = chunk.usage or usage
    assert "".join(parts) == full.choices[0].message.content
    assert usage is not None and usage.completion_tokens == full.usage.completion_tokens


def test_api_keys_lifecycle(chat_client: TestClient) -> None:
    h = login_as(chat_client, "keys@example.com")
    r = chat_client.post("/api/api-keys", json={"name": "ci"}, headers=h)
    assert r.status_code == 201
    key, key_id = r.json()["key"], r.json()["id"]
    assert key.startswith("lmw-")
    listed = chat_client.get("/api/api-keys", headers=h).json()["keys"]
    assert [k["id"] for k in listed] == [key_id] and key not in str(listed)
    api = sdk(chat_client, key)
    assert api.models.list().data
    # API keys are for /v1 only
    assert_error(
        chat_client.get("/api/conversations", headers={"Authorization": f"Bearer {key}"}),
        401,
        "INVALID_TOKEN",
    )
    assert chat_client.delete(f"/api/api-keys/{key_id}", headers=h).status_code == 200
    with pytest.raises(openai.AuthenticationError):
        api.models.list()


def test_v1_errors(chat_client: TestClient) -> None:
    h = login_as(chat_client, "v1e@example.com")
    api = sdk(chat_client, bearer(h))
    with pytest.raises(openai.NotFoundError):
        api.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.NotFoundError):
        api.chat.completions.create(
            model="nope", stream=True, messages=[{"role": "user", "content": "x"}]
        )
    with pytest.raises(openai.BadRequestError):
        api.chat.completions.create(model="gemma3-270m-q4_k_m", messages=[], max_tokens=5)
    with pytest.raises(openai.AuthenticationError):
        sdk(chat_client, "wrong").models.list()


def test_provider_keys_are_encrypted_and_masked(chat_client: TestClient) -> None:
    h = login_as(chat_client, "pk@example.com")
    secret = "sk-test-abcdefghijklmnop"
    # a user's base URL goes through the outbound policy (tests/chat/test_provider_url_policy)
    r = chat_client.put(
        "/api/providers/openai/key",
        json={"api_key": secret, "base_url": "http://127.0.0.1:9/v1"},
        headers=h,
    )
    assert_error(r, 400, "VALIDATION_ERROR")
    r = chat_client.put("/api/providers/openai/key", json={"api_key": secret}, headers=h)
    assert r.status_code == 200 and secret not in r.text
    listed = chat_client.get("/api/providers/keys", headers=h).json()["keys"]
    assert listed[0]["provider"] == "openai" and listed[0]["key"].endswith("mnop")
    assert secret not in str(listed)
    # stored encrypted, not in clear
    import asyncio  # noqa: F401

    from sqlalchemy import select

    from lmwebui.db.models import ProviderKey

    db = chat_client.app.state.services.db  # type: ignore[attr-defined]

    async def stored() -> str:
        async with db.session() as s:
            return str(await s.scalar(select(ProviderKey.encrypted_key)))

    assert chat_client.portal is not None
    assert secret not in chat_client.portal.call(stored)
    assert_error(
        chat_client.put("/api/providers/gguf/key", json={"api_key": "12345678"}, headers=h),
        400,
        "VALIDATION_ERROR",
    )
    assert chat_client.delete("/api/providers/openai/key", headers=h).status_code == 200
    assert_error(chat_client.delete("/api/providers/openai/key", headers=h), 404, "NOT_FOUND")
