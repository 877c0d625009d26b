"""Log probabilities on the GGUF engine through /v1 with the openai SDK over real HTTP
(uvicorn in a thread, the real engine in deterministic mode): chat's
``choices[].logprobs.content[]`` and /v1/completions' legacy lists, JSON and streamed, and
the bounds refused by name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.support.chat_app import gguf_http_server

MODEL = "gemma3-270m-q4_k_m.gguf"
HI = [{"role": "user", "content": "Name three colors."}]


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[openai.OpenAI]:
    with (
        gguf_http_server(tmp_path_factory.mktemp("logprobs")) as (url, key),
        openai.OpenAI(base_url=f"{url}/v1", api_key=key, timeout=300) as client,
    ):
        yield client


def chat(sdk: openai.OpenAI, **kwargs: Any) -> Any:
    return sdk.chat.completions.create(
        model=MODEL, messages=HI, temperature=0, max_completion_tokens=12, **kwargs
    )


def check_entries(entries: list[Any], k: int) -> None:
    """Each token: a log probability <= 0, its bytes, k alternatives best first; greedy, so
    the chosen token's log probability is the best alternative's."""
    assert entries
    for e in entries:
        assert e.logprob <= 0
        assert bytes(e.bytes) == e.token.encode()
        assert len(e.top_logprobs) == k
        tops = [t.logprob for t in e.top_logprobs]
        assert tops == sorted(tops, reverse=True) and all(t <= 0 for t in tops)
        if k:
            assert e.logprob == tops[0]
            assert e.token == e.top_logprobs[0].token


def test_chat_logprobs(sdk: openai.OpenAI) -> None:
    choice = chat(sdk, logprobs=True, top_logprobs=3).choices[0]
    entries = choice.logprobs.content
    check_entries(entries, 3)
    assert "".join(e.token for e in entries) == choice.message.content
    plain = chat(sdk, logprobs=True).choices[0]
    check_entries(plain.logprobs.content, 0)
    assert [e.logprob for e in plain.logprobs.content] == [e.logprob for e in entries]
    assert chat(sdk).choices[0].logprobs is None  # not asked: none


def test_chat_logprobs_streamed(sdk: openai.OpenAI) -> None:
    whole = chat(sdk, logprobs=True, top_logprobs=2).choices[0]
    entries, text = [], ""
    for chunk in chat(sdk, logprobs=True, top_logprobs=2, stream=True):
        for c in chunk.choices:
            text += c.delta.content or ""
            entries += c.logprobs.content if c.logprobs and c.logprobs.content else []
    check_entries(entries, 2)
    assert "".join(e.token for e in entries) == text == whole.message.content
    assert [e.logprob for e in entries] == [e.logprob for e in whole.logprobs.content]


def test_completions_legacy_logprobs(sdk: openai.OpenAI) -> None:
    ask: dict[str, Any] = {"model": MODEL, "prompt": "The sky is", "max_tokens": 8}
    choice = sdk.completions.create(**ask, temperature=0, logprobs=2).choices[0]
    lp = choice.logprobs
    assert lp is not None and lp.tokens and "".join(lp.tokens) == choice.text
    assert all(v <= 0 for v in lp.token_logprobs or [])
    for token, value, top in zip(
        lp.tokens, lp.token_logprobs or [], lp.top_logprobs or [], strict=True
    ):
        assert 1 <= len(top) <= 3 and top[token] == value == max(top.values())
    offsets = [len("".join(lp.tokens[:i])) for i in range(len(lp.tokens))]
    assert lp.text_offset == offsets
    streamed = sdk.completions.create(**ask, temperature=0, logprobs=2, stream=True)
    pieces = [c.choices[0] for c in streamed if c.choices]
    tokens = [t for p in pieces if p.logprobs for t in p.logprobs.tokens or []]
    assert tokens == lp.tokens
    assert [o for p in pieces if p.logprobs for o in p.logprobs.text_offset or []] == offsets


@pytest.mark.parametrize(
    ("path", "body", "name"),
    [
        ("chat", {"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
        ("chat", {"logprobs": True, "top_logprobs": -1}, "top_logprobs"),
        ("chat", {"top_logprobs": 2}, "top_logprobs"),
        ("completions", {"logprobs": 6}, "logprobs"),
        ("completions", {"logprobs": 1, "echo": True}, "logprobs"),
    ],
)
def test_bounds_refused_by_name(
    sdk: openai.OpenAI, path: str, body: dict[str, Any], name: str
) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        if path == "chat":
            sdk.chat.completions.create(model=MODEL, messages=HI, max_tokens=4, **body)
        else:
            sdk.completions.create(model=MODEL, prompt="x", max_tokens=4, **body)
    assert err.value.status_code == 400 and name in str(err.value.body)
