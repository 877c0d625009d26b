"""/v1 parameters on the real GGUF engine through the openai SDK (#14 items 1, 2, 5): token
limits, sampling parameters that change the answer deterministically, n, streamed usage,
content parts, tool history, and /v1/completions."""

from __future__ import annotations

from typing import Any

import llama_cpp
import openai
from fastapi.testclient import TestClient

from tests.api.routers.test_openai_compat import bearer, sdk
from tests.support.api import login_as
from tests.support.models import bundled_model_path

MODEL = "gemma3-270m-q4_k_m.gguf"
STORY: list[Any] = [{"role": "user", "content": "Write a long story about a dragon and a knight."}]


def api_for(client: TestClient, email: str) -> openai.OpenAI:
    return sdk(client, bearer(login_as(client, email)))


def greedy(api: openai.OpenAI, **kw: Any) -> Any:
    kw.setdefault("messages", STORY)
    return api.chat.completions.create(model=MODEL, temperature=0, **kw)


def test_max_completion_tokens_limits_the_answer(chat_client: TestClient) -> None:
    api = api_for(chat_client, "mct@example.com")
    out = greedy(api, max_completion_tokens=10)
    assert out.usage is not None and out.usage.completion_tokens <= 10
    assert out.choices[0].finish_reason == "length"
    both = greedy(api, max_completion_tokens=5, max_tokens=40)
    assert both.usage is not None and both.usage.completion_tokens <= 5


def first_token(text: str) -> int:
    """The bundled model's id of the first token of ``text`` (its vocabulary alone)."""
    vocab = llama_cpp.Llama(str(bundled_model_path()), vocab_only=True, verbose=False)
    return int(vocab.tokenize(text.encode(), add_bos=False, special=False)[0])


def test_logit_bias_and_penalties_change_the_greedy_answer(chat_client: TestClient) -> None:
    api = api_for(chat_client, "bias@example.com")
    base = greedy(api, max_tokens=24).choices[0].message.content or ""
    banned = {str(first_token(base)): -100}
    # the greedy first token banned: the answer starts differently, the same way each time
    biased = [
        greedy(api, max_tokens=24, logit_bias=banned).choices[0].message.content or ""
        for _ in range(2)
    ]
    assert biased[0] == biased[1] and biased[0] != base
    assert first_token(biased[0]) != first_token(base)
    long_base = greedy(api, max_tokens=48).choices[0].message.content
    penalised = [
        greedy(api, max_tokens=48, frequency_penalty=2.0, presence_penalty=2.0)
        .choices[0]
        .message.content
        for _ in range(2)
    ]
    assert penalised[0] == penalised[1] and penalised[0] != long_base
    # a token id outside the vocabulary is a 400 naming logit_bias
    try:
        greedy(api, max_tokens=2, logit_bias={"999999999": 5})
        raise AssertionError("an unknown token id was accepted")
    except openai.BadRequestError as exc:
        assert "logit_bias" in exc.response.json()["detail"]


def test_n_choices_and_stop(chat_client: TestClient) -> None:
    api = api_for(chat_client, "n@example.com")
    out = greedy(api, max_tokens=12, n=2)
    assert [c.index for c in out.choices] == [0, 1]
    assert out.choices[0].message.content == out.choices[1].message.content  # greedy
    assert (
        out.usage is not None
        and out.usage.completion_tokens == 2 * greedy(api, max_tokens=12).usage.completion_tokens
    )  # type: ignore[union-attr]
    sampled = api.chat.completions.create(
        model=MODEL, messages=STORY, max_tokens=12, n=3, temperature=1.5, seed=3
    )
    assert len({c.message.content for c in sampled.choices}) > 1
    full = greedy(api, max_tokens=24).choices[0].message.content or ""
    word = full.split()[2]
    cut = greedy(api, max_tokens=24, stop=[word]).choices[0].message.content or ""
    assert word not in cut and full.startswith(cut)


def test_stream_usage_and_content_parts(chat_client: TestClient) -> None:
    api = api_for(chat_client, "su@example.com")
    parts: list[Any] = [{"type": "text", "text": "Say hi"}, {"type": "text", "text": "to me."}]
    chunks = list(
        api.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": parts}],
            temperature=0,
            max_completion_tokens=8,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert 0 < chunks[-1].usage.completion_tokens <= 8
    assert all(c.usage is None for c in chunks[:-1])
    plain = list(greedy(api, max_tokens=4, stream=True))
    assert all(c.usage is None and c.choices for c in plain)
    try:
        greedy(
            api,
            messages=[
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "http://x/a.png"}}],
                }
            ],
        )
        raise AssertionError("an image part was accepted")
    except openai.BadRequestError as exc:
        assert "image_url" in exc.response.json()["detail"]


def test_tool_history_renders_for_the_model(chat_client: TestClient) -> None:
    api = api_for(chat_client, "th@example.com")
    call = {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
    out = greedy(
        api,
        max_tokens=16,
        messages=[
            {"role": "user", "content": "What is the weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c1", "content": "Sunny, 25 degrees"},
        ],
    )
    assert out.choices[0].message.content


def test_completions_create_json_stream_and_echo(chat_client: TestClient) -> None:
    api = api_for(chat_client, "cmpl@example.com")
    prompt = "The capital of France is"
    out = api.completions.create(model=MODEL, prompt=prompt, max_tokens=6, temperature=0)
    assert out.object == "text_completion" and out.choices[0].text
    assert out.usage is not None and 0 < out.usage.completion_tokens <= 6
    echoed = api.completions.create(
        model=MODEL, prompt=prompt, max_tokens=6, temperature=0, echo=True
    )
    assert echoed.choices[0].text == prompt + out.choices[0].text
    streamed = "".join(
        c.choices[0].text
        for c in api.completions.create(
            model=MODEL, prompt=prompt, max_tokens=6, temperature=0, stream=True
        )
        if c.choices
    )
    assert streamed == out.choices[0].text
    many = api.completions.create(
        model=MODEL, prompt=[prompt, "1, 2, 3,"], max_tokens=4, temperature=0
    )
    assert [c.index for c in many.choices] == [0, 1] and many.choices[0].text == out.choices[
        0
    ].text[: len(many.choices[0].text)]
    try:
        api.completions.create(model=MODEL, prompt=prompt, suffix="!", max_tokens=2)
        raise AssertionError("suffix was accepted")
    except openai.BadRequestError as exc:
        assert "suffix" in exc.response.json()["detail"]
