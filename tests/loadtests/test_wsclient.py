"""The benchmarks' WebSocket chat client (loadtests/wsclient.py) against a real HTTP server
(uvicorn in a thread) with the scripted engine: the protocol it speaks is the server's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lmwebui.api import create_app
from lmwebui.errors import ServiceUnavailable
from loadtests.bench_chat import ws_stream
from loadtests.wsclient import AsyncChatClient, chat_turn, chat_turn_sync, ws_chat_url
from tests.support.app import engines_runtime, http_server, make_settings
from tests.support.engines import ScriptedEngine, pieces
from tests.support.live import login

REPLY = "one two three four five"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, ScriptedEngine]]:
    engine = ScriptedEngine([REPLY])
    settings = make_settings(tmp_path, rate_limits={"enabled": False})
    app = create_app(settings, engines_runtime({"gguf": engine}))
    with http_server(app, ready_timeout=30) as url:
        try:
            yield url, engine
        finally:
            engine.release()


async def test_async_turn(server: tuple[str, ScriptedEngine]) -> None:
    base, engine = server
    headers = login(base, "bench@example.com")
    firsts: list[float] = []
    turn = await chat_turn(
        ws_chat_url(base),
        headers,
        {"message": "Count.", "max_tokens": 8},
        on_first_token=firsts.append,
    )
    assert turn.ok and turn.outcome == "final_answer"
    assert turn.content == REPLY and turn.tokens == len(pieces(REPLY))
    assert turn.completion_tokens == engine.calls[0].usage.completion_tokens
    assert turn.conversation_id and turn.conversation_id.startswith("conv_")
    assert turn.session_id and turn.session_id.startswith("session_")
    assert firsts == [turn.ttft_s] and 0 < turn.ttft_s <= turn.total_s
    assert turn.decode_s >= 0 and turn.connect_s > 0
    assert turn.error is None and turn.error_code is None
    assert engine.calls[0].request.max_tokens == 8
    # the benchmark's own wrapper
    stream = await ws_stream(ws_chat_url(base), headers, {"message": "Again."})
    assert stream.error is None and stream.tokens == len(pieces(REPLY)) and stream.ttft > 0


def test_sync_turn_and_error(server: tuple[str, ScriptedEngine]) -> None:
    base, engine = server
    headers = login(base, "sync@example.com")
    turn = chat_turn_sync(ws_chat_url(base), headers, {"message": "Count."})
    assert turn.ok and turn.content == REPLY and turn.tokens == len(pieces(REPLY))
    engine.fail_next(ServiceUnavailable("The chat replica died"), after=2)
    failed = chat_turn_sync(ws_chat_url(base), headers, {"message": "Count."})
    assert not failed.ok and failed.outcome == "error"
    assert failed.error_code == "SERVICE_UNAVAILABLE" and failed.error
    assert failed.tokens == 2 and failed.completion_tokens == 0 and failed.content == ""


async def test_cancel_then_next_turn_on_one_socket(server: tuple[str, ScriptedEngine]) -> None:
    base, engine = server
    headers = login(base, "cancel@example.com")
    engine.block_next(after=1)
    async with AsyncChatClient.connect(ws_chat_url(base), headers, recv_timeout=30) as chat:
        await chat.start({"message": "Count slowly."})
        ev = await chat.wait_for("token_update")
        await chat.cancel(ev["session_id"])
        cancelled = await chat.wait_for("cancelled", "error")
        assert cancelled["type"] == "cancelled"
        engine.release()
        turn = await chat.turn({"message": "Count."})
    assert turn.ok and turn.content == REPLY
    assert engine.calls[0].stopped_early
