"""LiteLLM's ``completion`` against the platform over real HTTP (uvicorn in a thread, the real
GGUF engine in deterministic mode), as a LiteLLM user reaches any OpenAI-compatible server:
``openai/<model>``, ``api_base`` at /v1 and a platform API key. Plain and streaming: the
token limit holds and the streamed pieces make the whole answer."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.support.chat_app import gguf_http_server

MODEL = "openai/gemma3-270m-q4_k_m.gguf"
PROMPT = [{"role": "user", "content": "Tell me a long story about a dragon."}]


@pytest.fixture(scope="module")
def litellm() -> Iterator[ModuleType]:
    """LiteLLM offline: its bundled model cost map instead of fetching one at import (the
    environment must be set before the first import; this version has no telemetry)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        yield importlib.import_module("litellm")


@pytest.fixture(scope="module")
def call(litellm: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with gguf_http_server(tmp_path_factory.mktemp("litellm")) as (url, key):

        def completion(**kwargs: Any) -> Any:
            return litellm.completion(
                model=MODEL,
                api_base=f"{url}/v1",
                api_key=key,
                messages=PROMPT,
                temperature=0,
                timeout=300,
                **kwargs,
            )

        yield completion


def test_completion_respects_max_tokens(call: Any) -> None:
    response = call(max_tokens=12)
    choice = response.choices[0]
    assert choice.message.content
    assert choice.finish_reason == "length"
    assert 1 <= response.usage.completion_tokens <= 12


def test_streamed_pieces_make_the_answer(call: Any) -> None:
    chunks = list(call(max_tokens=12, stream=True, stream_options={"include_usage": True}))
    pieces = [c.choices[0].delta.content or "" for c in chunks if c.choices]
    text = "".join(pieces)
    assert text and sum(1 for p in pieces if p) > 1
    usage = next(c.usage for c in reversed(chunks) if getattr(c, "usage", None))
    assert 1 <= usage.completion_tokens <= 12
    assert call(max_tokens=12).choices[0].message.content == text  # greedy: the same answer
