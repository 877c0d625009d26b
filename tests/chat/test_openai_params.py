"""/v1 parameters with a scripted engine (#14 items 1, 2, 5): every documented parameter
reaches the engine or is a 400 naming it, OpenAI's message shapes, OpenAI's streamed usage,
/v1/completions (JSON, SSE, echo, list of prompts)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.api import assert_error
from tests.support.chat import Build, sse_data
from tests.support.engines import DEFAULT_MODEL, ScriptedEngine

HI = [{"role": "user", "content": "hi"}]
ANSWER = "one two three four five six"


def v1(client: TestClient, h: dict[str, str], path: str = "chat/completions", **body: Any) -> Any:
    body.setdefault("model", DEFAULT_MODEL)
    if path == "chat/completions":
        body.setdefault("messages", HI)
    return client.post(f"/v1/{path}", json=body, headers=h)


def stream(client: TestClient, h: dict[str, str], path: str, **body: Any) -> list[Any]:
    body = {"model": DEFAULT_MODEL, "stream": True, **body}
    with client.stream("POST", f"/v1/{path}", json=body, headers=h) as r:
        assert r.status_code == 200, r.read()
        data = sse_data(r.read().decode())
    assert data[-1] == "[DONE]"
    return [json.loads(d) for d in data[:-1]]


def refused(r: Any, name: str) -> None:
    """A 400 in the error format whose detail and fields name the parameter."""
    body = assert_error(r, 400, "VALIDATION_ERROR")
    assert name in body["detail"], body
    assert any(name in f["field"] or name in f["message"] for f in body["fields"]), body


# ---------------------------------------------------------------------------- parameters
def test_max_completion_tokens_wins_over_max_tokens(build: Build) -> None:
    engine = ScriptedEngine(["Sure."])
    client, h = build(engine, chat={"max_tokens_limit": 100})
    assert v1(client, h, max_completion_tokens=10).status_code == 200
    assert v1(client, h, max_completion_tokens=10, max_tokens=50).status_code == 200
    assert [r.max_tokens for r in engine.requests] == [10, 10]
    # the platform's limit applies to the new name too
    body = assert_error(v1(client, h, max_completion_tokens=101), 400, "VALIDATION_ERROR")
    assert "max_tokens" in body["detail"]
    assert len(engine.calls) == 2


def test_sampling_parameters_reach_the_engine(build: Build) -> None:
    engine = ScriptedEngine(["Sure."])
    client, h = build(engine)
    r = v1(
        client,
        h,
        stop=["a", "b"],
        seed=7,
        temperature=0.2,
        top_p=0.5,
        presence_penalty=1.5,
        frequency_penalty=-0.5,
        logit_bias={"42": -100},
        user="end-user-1",
    )
    assert r.status_code == 200, r.text
    req = engine.requests[0]
    assert (req.stop_list(), req.seed, req.temperature, req.top_p) == (["a", "b"], 7, 0.2, 0.5)
    assert (req.presence_penalty, req.frequency_penalty) == (1.5, -0.5)
    assert (req.logit_bias, req.user) == ({"42": -100}, "end-user-1")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("audio", {"voice": "alloy", "format": "wav"}),
        ("modalities", ["text", "audio"]),
        ("prediction", {"type": "content", "content": "x"}),
        ("web_search_options", {}),
        ("functions", [{"name": "f", "parameters": {}}]),
        ("function_call", "auto"),
        ("logprobs", True),
        ("top_logprobs", 2),
        ("stop", ["a", "b", "c", "d", "e"]),
        ("logit_bias", {"not-a-token": 1}),
        ("logit_bias", {"5": 101}),
        ("presence_penalty", 2.5),
        ("n", 9),
    ],
)
def test_unsupported_parameter_is_400_naming_it(build: Build, name: str, value: Any) -> None:
    engine = ScriptedEngine(["Sure."])
    client, h = build(engine)
    refused(v1(client, h, **{name: value}), name)
    refused(v1(client, h, stream=True, **{name: value}), name)
    assert engine.calls == []


def test_harmless_and_unknown_extras_are_ignored(build: Build) -> None:
    engine = ScriptedEngine(["Sure."])
    client, h = build(engine)
    extras: dict[str, Any] = {
        "metadata": {"k": "v"},
        "store": False,
        "service_tier": "auto",
        "x_custom": 1,
    }
    r = v1(client, h, modalities=["text"], **extras)
    assert r.status_code == 200, r.text


# ---------------------------------------------------------------------------- messages
def test_content_parts_are_joined(build: Build) -> None:
    engine = ScriptedEngine(["Sure."])
    client, h = build(engine)
    parts = [{"type": "text", "text": "first"}, {"type": "text", "text": "second"}]
    r = v1(client, h, messages=[{"role": "user", "content": parts}])
    assert r.status_code == 200, r.text
    assert engine.calls[0].last_user_message == "first\nsecond"


def test_image_part_is_400_naming_it(build: Build) -> None:
    engine = ScriptedEngine(["Sure."])
    client, h = build(engine)
    parts = [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
    ]
    body = assert_error(
        v1(client, h, messages=[{"role": "user", "content": parts}]), 400, "VALIDATION_ERROR"
    )
    assert "image_url" in body["detail"] and body["fields"][0]["field"] == "messages.0.content"
    assert engine.calls == []


def test_tool_calls_and_tool_results_in_the_history(build: Build) -> None:
    engine = ScriptedEngine(["It is sunny."])
    client, h = build(engine)
    call = {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
    history = [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    r = v1(client, h, messages=history)
    assert r.status_code == 200, r.text
    got = engine.requests[0].messages
    assert got[1].tool_calls is not None and got[1].tool_calls[0].function.name == "weather"
    assert (got[2].role, got[2].tool_call_id, got[2].content) == ("tool", "call_1", "sunny")


# ---------------------------------------------------------------------------- streamed usage
def test_usage_is_a_final_chunk_only_when_asked(build: Build) -> None:
    engine = ScriptedEngine([ANSWER])
    client, h = build(engine)
    plain = stream(client, h, "chat/completions", messages=HI)
    assert all("usage" not in c for c in plain)
    assert plain[-1]["choices"][0]["finish_reason"] == "stop"
    asked = stream(
        client, h, "chat/completions", messages=HI, stream_options={"include_usage": True}
    )
    *content, last = asked
    assert last["choices"] == [] and last["usage"]["completion_tokens"] == 6
    assert last["id"] == content[0]["id"]
    assert all("usage" not in c for c in content)
    assert content[-1]["choices"][0]["finish_reason"] == "stop"


# ---------------------------------------------------------------------------- /v1/completions
def test_text_completion_json_and_echo(build: Build) -> None:
    engine = ScriptedEngine([ANSWER])
    client, h = build(engine)
    r = v1(client, h, "completions", prompt="Count:", max_tokens=3, stop="x", seed=1)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "text_completion" and body["id"].startswith("cmpl-")
    assert body["choices"] == [{"index": 0, "text": "one two three ", "finish_reason": "length"}]
    assert body["usage"] == {"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4}
    req = engine.completions[0]
    assert (req.prompt, req.max_tokens, req.stop, req.seed) == ("Count:", 3, "x", 1)
    echoed = v1(client, h, "completions", prompt="Count:", max_tokens=1, echo=True).json()
    assert echoed["choices"][0]["text"] == "Count:one "


def test_text_completion_list_of_prompts_and_n(build: Build) -> None:
    engine = ScriptedEngine([ANSWER])
    client, h = build(engine)
    body = v1(client, h, "completions", prompt=["a", "b"], n=2, max_tokens=1).json()
    assert [c["index"] for c in body["choices"]] == [0, 1, 2, 3]
    assert body["usage"]["completion_tokens"] == 4


def test_text_completion_stream(build: Build) -> None:
    engine = ScriptedEngine([ANSWER])
    client, h = build(engine)
    chunks = stream(client, h, "completions", prompt="Go", stream_options={"include_usage": True})
    assert all(c["object"] == "text_completion" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    text = "".join(c["choices"][0]["text"] for c in chunks if c["choices"])
    assert text == ANSWER
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 6


@pytest.mark.parametrize(
    ("name", "value"),
    [("suffix", "end"), ("best_of", 2), ("logprobs", 1), ("prompt", []), ("echo", "yes")],
)
def test_text_completion_refusals(build: Build, name: str, value: Any) -> None:
    engine = ScriptedEngine([ANSWER])
    client, h = build(engine)
    refused(v1(client, h, "completions", **{"prompt": "x", name: value}), name)
    assert engine.completions == []


def test_text_completion_checks_like_chat(build: Build) -> None:
    engine = ScriptedEngine([ANSWER])
    client, h = build(engine, chat={"max_tokens_limit": 10, "max_message_chars": 5})
    assert_error(v1(client, h, "completions", prompt="x", max_tokens=11), 400, "VALIDATION_ERROR")
    assert_error(v1(client, h, "completions", prompt="123456"), 400, "VALIDATION_ERROR")
    anonymous = client.post("/v1/completions", json={"model": "x", "prompt": "x"})
    assert anonymous.status_code == 401
    assert engine.completions == []


def test_text_completion_on_a_provider_without_raw_prompts_is_400(build: Build) -> None:
    engine = ScriptedEngine([ANSWER])
    client, h = build(engine)
    key = {"api_key": "sk-test-abcdefghijklmnop"}
    assert client.put("/api/providers/openai/key", json=key, headers=h).status_code == 200
    r = v1(client, h, "completions", prompt="x", model="openai/gpt-4o-mini")
    assert "/v1/completions" in assert_error(r, 400, "VALIDATION_ERROR")["detail"]


# ---------------------------------------------------------------------------- upstream
HI_LOGPROBS = {
    "content": [
        {
            "token": "hi",
            "logprob": -0.25,
            "bytes": [104, 105],
            "top_logprobs": [{"token": "hi", "logprob": -0.25, "bytes": [104, 105]}],
        }
    ]
}
SSE_REPLY: list[dict[str, Any]] = [
    {
        "choices": [
            {
                "index": 0,
                "delta": {"role": "assistant", "content": "hi"},
                "logprobs": HI_LOGPROBS,
            }
        ]
    },
    {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}},
]


@pytest.fixture
def recording_upstream() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """An OpenAI-compatible upstream that records each request body and answers 'hi'."""
    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for part in SSE_REPLY:
                chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
                self.wfile.write(f"data: {json.dumps({**chunk, **part})}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", bodies
    server.shutdown()
    thread.join()


def test_upstream_gets_the_parameters_a_client_set(
    build: Build, recording_upstream: tuple[str, list[dict[str, Any]]]
) -> None:
    url, bodies = recording_upstream
    client, h = build(
        ScriptedEngine(), chat={"openai_base_url": url, "openai_api_key": "sk-server-key"}
    )
    sent: dict[str, Any] = {
        "max_completion_tokens": 7,
        "presence_penalty": 0.5,
        "logit_bias": {"11": -5},
        "n": 2,
        "seed": 3,
        "stop": ["x"],
        "user": "u-9",
    }
    r = v1(client, h, model="openai/gpt-4o-mini", **sent)
    assert r.status_code == 200, r.text
    body = bodies[0]
    assert {k: body.get(k) for k in sent} == sent
    assert "max_tokens" not in body and "frequency_penalty" not in body
    # unset top_p is the upstream's default (vLLM's CPU sampler pays a vocabulary sort for
    # 0.95 on every token); the platform's temperature default is sent
    assert "top_p" not in body and body["temperature"] == 0.7
    parts = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    assert v1(client, h, model="openai/m", messages=[{"role": "user", "content": parts}])
    assert bodies[1]["messages"] == [{"role": "user", "content": "a\nb"}]
    # log probabilities: asked of the upstream, relayed as it sent them
    r = v1(client, h, model="openai/gpt-4o-mini", logprobs=True, top_logprobs=1)
    assert r.status_code == 200, r.text
    assert (bodies[2]["logprobs"], bodies[2]["top_logprobs"]) == (True, 1)
    assert r.json()["choices"][0]["logprobs"]["content"] == HI_LOGPROBS["content"]
    assert "logprobs" not in bodies[0]  # not asked: not sent
    assert v1(client, h, model="openai/m", top_p=0.5).status_code == 200
    assert bodies[3]["top_p"] == 0.5  # set: sent
