"""One chat turn through the public surface (REST /api/chat, WebSocket /ws/chat, /v1) with a
scripted engine: what the platform does around the model, pinned fast and deterministically.

The engine answers from a script and records what it was asked (tests/support/engines.py);
the real model's behaviour is tested in tests/api (slow, module-scoped model).
"""

from __future__ import annotations

import pytest

from lmwebui.errors import ServiceUnavailable
from tests.support.api import assert_error
from tests.support.chat import (
    QUESTION,
    Build,
    cancel_session,
    chat,
    collect,
    conversation,
    conversations,
    of_type,
    start_stream,
    ws_turn,
)
from tests.support.engines import DEFAULT_MODEL, ScriptedEngine, pieces

NOTES = (
    "1. Sunlight holds every colour.\n"
    "2. Air molecules scatter short wavelengths most.\n"
    "3. So blue light reaches us from all directions."
)
NOTE_STEPS = [
    "1. Sunlight holds every colour.",
    "2. Air molecules scatter short wavelengths most.",
    "3. So blue light reaches us from all directions.",
]
ANSWER = "Because air scatters blue light more than the other colours."


# ---------------------------------------------------------------------------- a plain turn
def test_rest_turn_returns_the_engines_answer_and_usage(build: Build) -> None:
    engine = ScriptedEngine(["Paris is the capital of France."])
    client, h = build(engine)
    body = chat(client, h, message="What is the capital of France?")
    call = engine.calls[0]
    assert body["response"] == "Paris is the capital of France."
    assert body["conversation_id"].startswith("conv_")
    assert body["tokens_used"] == call.usage.total_tokens
    assert body["usage"] == {
        "prompt_tokens": call.usage.prompt_tokens,
        "completion_tokens": call.usage.completion_tokens,
        "total_tokens": call.usage.total_tokens,
    }
    assert isinstance(body["processing_time"], float) and body["processing_time"] >= 0
    assert body["provider"] == "gguf" and body["model"] == DEFAULT_MODEL
    assert "reasoning_steps" not in body and "raw_response" not in body
    # the engine got the user's message, the default model and the conversation as its key
    assert call.request.model == DEFAULT_MODEL
    assert [(m.role, m.content) for m in call.request.messages] == [
        ("user", "What is the capital of France?")
    ]
    assert call.request.user == body["conversation_id"]
    assert call.completed


def test_ws_turn_streams_tokens_then_final_answer(build: Build) -> None:
    engine = ScriptedEngine([ANSWER])
    client, h = build(engine)
    events = ws_turn(client, h, message=QUESTION)
    final = events[-1]
    assert final["type"] == "final_answer", events
    tokens = of_type(events, "token_update")
    assert [e["token"] for e in tokens] == pieces(ANSWER)
    assert all(e["is_complete"] is False for e in tokens)
    assert [e["type"] for e in events] == ["token_update"] * len(tokens) + ["final_answer"]
    assert final["content"] == ANSWER
    assert final["tokens_used"] == engine.calls[0].usage.total_tokens
    assert final["processing_time"] >= 0
    sid = final["session_id"]
    assert sid.startswith("session_")
    for e in events:  # the event format: type, session_id, data, timestamp
        assert e["session_id"] == sid and isinstance(e["timestamp"], float)
        fields = {
            k: v for k, v in e.items() if k not in ("type", "session_id", "data", "timestamp")
        }
        assert e["data"] == fields
    stored = conversation(client, h, final["conversation_id"])["messages"]
    assert [(m["role"], m["content"]) for m in stored] == [
        ("user", QUESTION),
        ("assistant", ANSWER),
    ]


# ---------------------------------------------------------------------------- deep thinking
def test_deep_thinking_runs_a_reasoning_pass_before_the_answer(build: Build) -> None:
    """A model without native reasoning: a reasoning pass (asked for steps) streams its
    steps first; the answer pass gets the notes; usage is both passes'."""
    engine = ScriptedEngine([NOTES, ANSWER])
    client, h = build(engine)
    events = ws_turn(client, h, message=QUESTION, deep_thinking_mode=True)
    final = events[-1]
    assert final["type"] == "final_answer", events
    kinds = [e["type"] for e in events]
    steps = of_type(events, "reasoning_step")
    assert steps and "token_update" in kinds
    assert max(i for i, k in enumerate(kinds) if k == "reasoning_step") < kinds.index(
        "token_update"
    ), kinds
    assert [s["step_index"] for s in steps] == [1, 2, 3]
    assert [s["content"] for s in steps] == NOTE_STEPS
    for s in steps:
        assert isinstance(s["step_type"], str) and s["step_type"]
        assert isinstance(s["title"], str) and s["title"] and s["title"] in s["content"]
        assert isinstance(s["metadata"], dict)
    assert steps[0]["step_type"] == "analysis"
    # the visible answer is the answer pass only
    assert "".join(e["token"] for e in of_type(events, "token_update")) == ANSWER
    assert final["content"] == ANSWER
    assert [s["content"] for s in final["reasoning_steps"]] == NOTE_STEPS
    assert [s["step_index"] for s in final["reasoning_steps"]] == [1, 2, 3]

    reasoning, answer = engine.calls
    assert QUESTION in reasoning.last_user_message
    assert "step" in reasoning.last_user_message.replace(QUESTION, "").lower()
    assert QUESTION in answer.last_user_message
    for step in NOTE_STEPS:
        assert step in answer.last_user_message
    assert reasoning.request.user == answer.request.user == final["conversation_id"]
    assert final["tokens_used"] == reasoning.usage.total_tokens + answer.usage.total_tokens
    assert final["completion_tokens"] == (
        reasoning.usage.completion_tokens + answer.usage.completion_tokens
    )
    # only the answer is stored
    stored = conversation(client, h, final["conversation_id"])["messages"]
    assert stored[1]["content"] == ANSWER


def test_deep_thinking_over_rest_with_the_raw_response(build: Build) -> None:
    engine = ScriptedEngine([NOTES, ANSWER])
    client, h = build(engine)
    body = chat(client, h, deep_thinking_mode=True, show_raw_response=True)
    assert body["response"] == ANSWER
    assert [s["content"] for s in body["reasoning_steps"]] == NOTE_STEPS
    assert all(s["type"] == "reasoning_step" for s in body["reasoning_steps"])
    reasoning, answer = engine.calls
    assert body["tokens_used"] == reasoning.usage.total_tokens + answer.usage.total_tokens
    assert body["usage"]["prompt_tokens"] == (
        reasoning.usage.prompt_tokens + answer.usage.prompt_tokens
    )
    # the untouched output of both passes
    assert NOTES in body["raw_response"]
    assert body["raw_response"].endswith(ANSWER)


def test_without_deep_thinking_there_is_one_pass_and_no_steps(build: Build) -> None:
    engine = ScriptedEngine([ANSWER])
    client, h = build(engine)
    events = ws_turn(client, h, message=QUESTION, show_raw_response=True)
    assert len(engine.calls) == 1
    assert of_type(events, "reasoning_step") == []
    assert "reasoning_steps" not in events[-1]
    assert events[-1]["raw_response"] == ANSWER


SPLIT_THINK = [
    "<thi",
    "nk>First, consider",
    " the question.\n\nThen answer.</th",
    "ink>The ",
    "answer.",
]


def test_native_think_tags_become_steps_even_split_across_chunks(build: Build) -> None:
    engine = ScriptedEngine([SPLIT_THINK], native_reasoning=True)
    client, h = build(engine)
    events = ws_turn(client, h, message=QUESTION, deep_thinking_mode=True, show_raw_response=True)
    final = events[-1]
    assert final["type"] == "final_answer", events
    assert len(engine.calls) == 1, "a natively reasoning model gets no extra reasoning pass"
    steps = of_type(events, "reasoning_step")
    assert [s["content"] for s in steps] == ["First, consider the question.", "Then answer."]
    assert [s["step_index"] for s in steps] == [1, 2]
    kinds = [e["type"] for e in events]
    assert max(i for i, k in enumerate(kinds) if k == "reasoning_step") < kinds.index(
        "token_update"
    )
    visible = "".join(e["token"] for e in of_type(events, "token_update"))
    assert visible == "The answer." == final["content"]
    assert [s["content"] for s in final["reasoning_steps"]] == [s["content"] for s in steps]
    assert final["raw_response"] == "".join(SPLIT_THINK)
    stored = conversation(client, h, final["conversation_id"])["messages"]
    assert stored[1]["content"] == "The answer."


def test_think_tags_never_reach_the_visible_answer(build: Build) -> None:
    """Without deep thinking the model's thoughts are still not part of the answer."""
    engine = ScriptedEngine([SPLIT_THINK], native_reasoning=True)
    client, h = build(engine)
    events = ws_turn(client, h, message=QUESTION)
    visible = "".join(e["token"] for e in of_type(events, "token_update"))
    assert visible == "The answer." == events[-1]["content"]
    body = chat(client, h)
    assert body["response"] == "The answer."


# ---------------------------------------------------------------------------- persistence
def test_turn_two_sends_turn_ones_history_under_the_same_affinity_key(build: Build) -> None:
    engine = ScriptedEngine(["Nice to meet you, Ada.", "Your name is Ada."])
    client, h = build(engine)
    first = chat(client, h, message="My name is Ada.")
    cid = first["conversation_id"]
    # turn 2 over the WebSocket: one conversation whichever surface a turn comes from
    events = ws_turn(client, h, message="What is my name?", conversation_id=cid)
    final = events[-1]
    assert final["type"] == "final_answer" and final["conversation_id"] == cid
    turn1, turn2 = engine.calls
    assert [(m.role, m.content) for m in turn2.request.messages] == [
        ("user", "My name is Ada."),
        ("assistant", "Nice to meet you, Ada."),
        ("user", "What is my name?"),
    ]
    assert turn1.request.user == turn2.request.user == cid
    conv = conversation(client, h, cid)
    assert conv["id"] == cid
    assert [(m["role"], m["content"]) for m in conv["messages"]] == [
        ("user", "My name is Ada."),
        ("assistant", "Nice to meet you, Ada."),
        ("user", "What is my name?"),
        ("assistant", "Your name is Ada."),
    ]
    for m in conv["messages"]:
        assert m["id"] and m["timestamp"].endswith("Z")
    assert [c["id"] for c in conversations(client, h)] == [cid]


def test_ws_cancel_mid_stream_stores_nothing_and_stops_the_engine(build: Build) -> None:
    engine = ScriptedEngine(["one two three four five six", "ok"])
    client, h = build(engine)
    engine.block_next(after=2)
    with client.websocket_connect("/ws/chat", headers=h) as ws:
        start_stream(ws, message="Count to six.")
        events = collect(ws, until=("token_update",))
        events += collect(ws, until=("token_update",))
        engine.wait_blocked()
        sid = events[-1]["session_id"]
        cancel_session(ws, sid)
        rest = collect(ws)
        assert rest[-1]["type"] == "cancelled", rest
        assert rest[-1]["session_id"] == sid
        assert not of_type(rest, "final_answer")
        call = engine.calls[0]
        engine.wait_closed(call)
        assert call.stopped_early and call.sent == ["one ", "two "]
        assert conversations(client, h) == []
        # the socket serves the next turn
        engine.release()
        start_stream(ws, message="Still there?")
        assert collect(ws)[-1]["type"] == "final_answer"
    assert len(conversations(client, h)) == 1


def test_ws_cancel_during_the_reasoning_pass_stores_nothing(build: Build) -> None:
    engine = ScriptedEngine([NOTES, ANSWER])
    client, h = build(engine)
    engine.block_next(after=3)
    with client.websocket_connect("/ws/chat", headers=h) as ws:
        start_stream(ws, message=QUESTION, deep_thinking_mode=True)
        engine.wait_blocked()
        cancel_session(ws, None)  # no session_id: the socket's running stream
        events = collect(ws)
        assert events[-1]["type"] == "cancelled", events
        assert not of_type(events, "token_update") and not of_type(events, "final_answer")
    engine.wait_closed(engine.calls[0])
    engine.release()
    assert len(engine.calls) == 1 and engine.calls[0].stopped_early  # no answer pass
    assert conversations(client, h) == []


def test_ws_disconnect_mid_stream_stores_nothing_and_stops_the_engine(build: Build) -> None:
    engine = ScriptedEngine(["one two three four"])
    client, h = build(engine)
    engine.block_next(after=1)
    with client.websocket_connect("/ws/chat", headers=h) as ws:
        start_stream(ws, message="Count.")
        collect(ws, until=("token_update",))
        engine.wait_blocked()
    call = engine.calls[0]
    engine.wait_closed(call)
    engine.release()
    assert call.stopped_early
    assert conversations(client, h) == []


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ServiceUnavailable("The chat replica died"), 503, "SERVICE_UNAVAILABLE"),
        (RuntimeError("boom: engine internals"), 500, "INTERNAL_ERROR"),
    ],
)
def test_engine_error_mid_stream_is_an_error_and_stores_nothing(
    build: Build, error: Exception, status: int, code: str
) -> None:
    engine = ScriptedEngine(["one two three four"])
    client, h = build(engine)

    engine.fail_next(error, after=2)
    events = ws_turn(client, h, message="Count.")
    assert [e["type"] for e in events] == ["token_update", "token_update", "error"], events
    err = events[-1]
    assert err["error_code"] == code
    assert err["session_id"] == events[0]["session_id"]
    assert isinstance(err["error"], str) and err["error"]
    assert "boom" not in err["error"]

    engine.fail_next(error, after=2)
    body = assert_error(
        client.post("/api/chat", json={"message": "Count."}, headers=h), status, code
    )
    assert "boom" not in body["detail"]

    assert len(engine.calls) == 2 and all(c.stopped_early for c in engine.calls)
    assert conversations(client, h) == []
    # a continued conversation keeps only its completed turns
    cid = chat(client, h, message="Count.")["conversation_id"]
    engine.fail_next(error, after=1)
    ws_turn(client, h, message="Again.", conversation_id=cid)
    assert len(conversation(client, h, cid)["messages"]) == 2
