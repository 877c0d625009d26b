"""Request limits and /v1/chat/completions with a scripted engine (the rest of the chat turn
is in test_chat_turn.py): the same checks on REST, WebSocket and /v1, JSON and SSE shapes."""

from __future__ import annotations

import json

from lmwebui.errors import ServiceUnavailable
from tests.support.api import assert_error
from tests.support.chat import (
    QUESTION,
    Build,
    chat,
    collect,
    conversations,
    sse_data,
    ws_turn,
)
from tests.support.engines import DEFAULT_MODEL, ScriptedEngine, pieces

ANSWER = "Because air scatters blue light more than the other colours."


# ---------------------------------------------------------------------------- parameters
def test_max_tokens_and_temperature_reach_the_engine(build: Build) -> None:
    engine = ScriptedEngine(["Sure."])
    client, h = build(engine)
    chat(client, h, max_tokens=7, temperature=0.3)
    ws_turn(client, h, max_tokens=9, temperature=1.2)
    r = client.post(
        "/v1/chat/completions",
        json={
            "model": DEFAULT_MODEL,
            "messages": [{"role": "user", "content": "hi"}],
            "max_tokens": 11,
            "temperature": 0.0,
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    # a stream session registered over REST runs with its parameters on the WebSocket
    r = client.post(
        "/api/chat/stream/start",
        json={"message": "hi", "max_tokens": 13, "temperature": 0.5},
        headers=h,
    )
    assert r.status_code == 200, r.text
    with client.websocket_connect(r.json()["websocket_url"], headers=h) as ws:
        assert collect(ws)[-1]["type"] == "final_answer"
    assert [(c.request.max_tokens, c.request.temperature) for c in engine.calls] == [
        (7, 0.3),
        (9, 1.2),
        (11, 0.0),
        (13, 0.5),
    ]


LIMITS = {"max_tokens_limit": 100, "max_message_chars": 50}


def test_max_tokens_over_the_limit_is_400_everywhere(build: Build) -> None:
    engine = ScriptedEngine(["Sure."])
    client, h = build(engine, chat=LIMITS)
    too_many = {"message": "hi", "max_tokens": 101}
    assert_error(client.post("/api/chat", json=too_many, headers=h), 400, "VALIDATION_ERROR")
    assert_error(
        client.post("/api/chat/stream/start", json=too_many, headers=h), 400, "VALIDATION_ERROR"
    )
    events = ws_turn(client, h, **too_many)
    assert [e["type"] for e in events] == ["error"] and events[0][
        "error_code"
    ] == "VALIDATION_ERROR"
    v1 = {"model": DEFAULT_MODEL, "messages": [{"role": "user", "content": "hi"}]}
    for stream in (False, True):
        r = client.post(
            "/v1/chat/completions", json={**v1, "max_tokens": 101, "stream": stream}, headers=h
        )
        assert_error(r, 400, "VALIDATION_ERROR")
    assert engine.calls == []
    # the limit itself is accepted on all three
    chat(client, h, max_tokens=100)
    assert ws_turn(client, h, max_tokens=100)[-1]["type"] == "final_answer"
    r = client.post("/v1/chat/completions", json={**v1, "max_tokens": 100}, headers=h)
    assert r.status_code == 200, r.text
    assert [c.request.max_tokens for c in engine.calls] == [100, 100, 100]
    assert len(conversations(client, h)) == 2


def test_too_long_message_is_400_on_rest_and_websocket(build: Build) -> None:
    engine = ScriptedEngine(["Sure."])
    client, h = build(engine, chat=LIMITS)
    long = "x" * 51
    assert_error(
        client.post("/api/chat", json={"message": long}, headers=h), 400, "VALIDATION_ERROR"
    )
    assert_error(
        client.post("/api/chat/stream/start", json={"message": long}, headers=h),
        400,
        "VALIDATION_ERROR",
    )
    events = ws_turn(client, h, message=long)
    assert [e["type"] for e in events] == ["error"] and events[0][
        "error_code"
    ] == "VALIDATION_ERROR"
    assert engine.calls == [] and conversations(client, h) == []
    chat(client, h, message="x" * 50)  # the limit itself is fine


def test_too_long_message_is_400_on_v1(build: Build) -> None:
    engine = ScriptedEngine(["Sure."])
    client, h = build(engine, chat=LIMITS)
    body = {"model": DEFAULT_MODEL, "messages": [{"role": "user", "content": "x" * 51}]}
    assert_error(client.post("/v1/chat/completions", json=body, headers=h), 400, "VALIDATION_ERROR")
    assert engine.calls == []


# ---------------------------------------------------------------------------- /v1
def test_v1_json_completion(build: Build) -> None:
    engine = ScriptedEngine([ANSWER])
    client, h = build(engine)
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": QUESTION},
    ]
    r = client.post(
        "/v1/chat/completions", json={"model": DEFAULT_MODEL, "messages": messages}, headers=h
    )
    assert r.status_code == 200, r.text
    body = r.json()
    call = engine.calls[0]
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == DEFAULT_MODEL
    choice = body["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": ANSWER}
    assert choice["finish_reason"] == "stop"
    assert body["usage"] == call.usage.model_dump(exclude_none=True)
    assert [(m.role, m.content) for m in call.request.messages] == [
        ("system", "Be brief."),
        ("user", QUESTION),
    ]
    assert call.request.model == DEFAULT_MODEL
    # /v1 is stateless: no conversation is stored
    assert conversations(client, h) == []


def test_v1_sse_stream(build: Build) -> None:
    engine = ScriptedEngine([ANSWER])
    client, h = build(engine)
    body = {
        "model": DEFAULT_MODEL,
        "messages": [{"role": "user", "content": QUESTION}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with client.stream("POST", "/v1/chat/completions", json=body, headers=h) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        data = sse_data(r.read().decode())
    assert data[-1] == "[DONE]"
    *chunks, usage = [json.loads(d) for d in data[:-1]]
    # OpenAI's shape: the usage in a final chunk of its own, with no choices
    assert usage["choices"] == [] and usage["id"] == chunks[0]["id"]
    assert usage["usage"] == engine.calls[0].usage.model_dump(exclude_none=True)
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text == ANSWER
    finishes = [c["choices"][0].get("finish_reason") for c in chunks]
    assert finishes[-1] == "stop" and not any(finishes[:-1])
    assert not any("usage" in c for c in chunks)
    assert engine.calls[0].completed


def test_v1_sse_engine_error_mid_stream_is_an_error_event(build: Build) -> None:
    engine = ScriptedEngine([ANSWER])
    client, h = build(engine)
    engine.fail_next(ServiceUnavailable("The chat replica died"), after=2)
    body = {"model": DEFAULT_MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with client.stream("POST", "/v1/chat/completions", json=body, headers=h) as r:
        assert r.status_code == 200
        data = sse_data(r.read().decode())
    payloads = [json.loads(d) for d in data if d != "[DONE]"]
    assert payloads[-1]["error"]["error_code"] == "SERVICE_UNAVAILABLE"
    text = "".join(
        p["choices"][0]["delta"].get("content") or "" for p in payloads if "choices" in p
    )
    assert text == "".join(pieces(ANSWER)[:2])
