"""Chat through the real Serve app: ingress → ChatGGUF handle, WS, /v1, openai provider."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from typing import Any

import httpx
import openai
import pytest
from websockets.sync.client import connect

from tests.support.live import LiveServer, login

pytestmark = pytest.mark.slow


def ws_url(server: LiveServer, path: str) -> str:
    return server.url.replace("http://", "ws://") + path


def events_until_final(ws: Any) -> list[dict[str, Any]]:
    out = []
    while True:
        ev = json.loads(ws.recv(timeout=120))
        out.append(ev)
        if ev["type"] in ("final_answer", "error", "cancelled"):
            return out


def test_rest_chat_through_serve(live_server: LiveServer) -> None:
    h = login(live_server.url, "serve-chat@example.com")
    r = httpx.post(
        f"{live_server.url}/api/chat",
        headers=h,
        timeout=120,
        json={"message": "Hello there", "temperature": 0, "max_tokens": 8},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["response"] and body["tokens_used"] > 0
    r = httpx.post(
        f"{live_server.url}/api/chat",
        headers=h,
        timeout=60,
        json={"message": "hi", "model": "missing"},
    )
    assert r.status_code == 404 and r.json()["error_code"] == "MODEL_NOT_FOUND"
    health = httpx.get(f"{live_server.url}/api/health", timeout=30).json()
    assert health["components"]["ChatGGUF"] is True


def test_ws_stream_and_cancel_through_serve(live_server: LiveServer) -> None:
    h = login(live_server.url, "serve-ws@example.com")
    with connect(ws_url(live_server, "/ws/chat"), additional_headers=h) as ws:
        ws.send(
            json.dumps(
                {
                    "action": "start_stream",
                    "data": {"message": "Hello", "temperature": 0, "max_tokens": 12},
                }
            )
        )
        events = events_until_final(ws)
        final = events[-1]
        assert final["type"] == "final_answer", events
        tokens = "".join(e["token"] for e in events if e["type"] == "token_update")
        assert final["content"] == tokens
        # cancel mid-stream, then the same socket serves the next request
        ws.send(
            json.dumps(
                {
                    "action": "start_stream",
                    "data": {"message": "Write a long story.", "max_tokens": 500},
                }
            )
        )
        ev = json.loads(ws.recv(timeout=60))
        sid = ev["session_id"]
        ws.send(json.dumps({"action": "cancel_session", "data": {"session_id": sid}}))
        rest = events_until_final(ws)
        assert rest[-1]["type"] == "cancelled"
        ws.send(
            json.dumps(
                {
                    "action": "start_stream",
                    "data": {"message": "Hi", "temperature": 0, "max_tokens": 4},
                }
            )
        )
        assert events_until_final(ws)[-1]["type"] == "final_answer"


def test_unauthenticated_ws_closed_1008(live_server: LiveServer) -> None:
    from websockets.exceptions import ConnectionClosed

    with connect(ws_url(live_server, "/ws/chat")) as ws, pytest.raises(ConnectionClosed) as exc:
        ws.recv(timeout=30)
    assert exc.value.rcvd is not None and exc.value.rcvd.code == 1008


def test_openai_sdk_and_openai_provider_against_own_v1(live_server: LiveServer) -> None:
    h = login(live_server.url, "serve-v1@example.com")
    key = httpx.post(
        f"{live_server.url}/api/api-keys", json={"name": "self"}, headers=h, timeout=30
    ).json()["key"]
    api = openai.OpenAI(base_url=f"{live_server.url}/v1", api_key=key, max_retries=0)
    assert any(m.id.endswith(".gguf") for m in api.models.list().data)
    streamed = "".join(
        c.choices[0].delta.content or ""
        for c in api.chat.completions.create(
            model="default",
            messages=[{"role": "user", "content": "Hi"}],
            stream=True,
            temperature=0,
            max_tokens=6,
        )
        if c.choices
    )
    assert streamed
    # the `openai` provider pointed at the platform's own /v1 with the user's key
    r = httpx.put(
        f"{live_server.url}/api/providers/openai/key",
        headers=h,
        timeout=30,
        json={"api_key": key, "base_url": f"{live_server.url}/v1"},
    )
    assert r.status_code == 200
    r = httpx.post(
        f"{live_server.url}/api/chat",
        headers=h,
        timeout=120,
        json={
            "message": "Hi",
            "provider": "openai",
            "model": "default",
            "temperature": 0,
            "max_tokens": 6,
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["response"] == streamed and r.json()["provider"] == "openai"


def test_v1_parameters_and_completions_through_serve(live_server: LiveServer) -> None:
    """n, max_completion_tokens, include_usage and /v1/completions cross Ray to ChatGGUF."""
    h = login(live_server.url, "serve-v1p@example.com")
    key = httpx.post(
        f"{live_server.url}/api/api-keys", json={"name": "p"}, headers=h, timeout=30
    ).json()["key"]
    api = openai.OpenAI(base_url=f"{live_server.url}/v1", api_key=key, max_retries=0)
    story: list[Any] = [{"role": "user", "content": "Write a long story about a dragon."}]
    two = api.chat.completions.create(
        model="default", messages=story, temperature=0, max_completion_tokens=5, n=2
    )
    assert [c.index for c in two.choices] == [0, 1]
    assert two.usage is not None and two.usage.completion_tokens <= 10
    chunks = list(
        api.chat.completions.create(
            model="default",
            messages=story,
            temperature=0,
            max_completion_tokens=5,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    out = api.completions.create(
        model="default", prompt="Once upon a time", max_tokens=5, temperature=0, echo=True
    )
    assert out.choices[0].text.startswith("Once upon a time")
    assert out.usage is not None and 0 < out.usage.completion_tokens <= 5
    streamed = "".join(
        c.choices[0].text
        for c in api.completions.create(
            model="default", prompt="Once upon a time", max_tokens=5, temperature=0, stream=True
        )
        if c.choices
    )
    assert "Once upon a time" + streamed == out.choices[0].text
    # log probabilities cross Ray on the chunks (plain dicts), chat and legacy shapes
    lp = api.chat.completions.create(
        model="default",
        messages=story,
        temperature=0,
        max_completion_tokens=5,
        logprobs=True,
        top_logprobs=2,
    ).choices[0]
    assert lp.logprobs is not None and lp.logprobs.content
    assert "".join(t.token for t in lp.logprobs.content) == lp.message.content
    assert all(t.logprob == t.top_logprobs[0].logprob for t in lp.logprobs.content)
    legacy = api.completions.create(
        model="default", prompt="Once upon a time", max_tokens=5, temperature=0, logprobs=1
    ).choices[0]
    assert legacy.logprobs is not None and "".join(legacy.logprobs.tokens or []) == legacy.text


def _replica_pids(name: str) -> list[int]:
    out = subprocess.run(
        ["pgrep", "-f", f"ServeReplica:lmwebui:{name}"], capture_output=True, text=True, check=False
    ).stdout
    return [int(p) for p in out.split()]


def test_replica_killed_mid_stream(live_server: LiveServer) -> None:
    h = login(live_server.url, "serve-kill@example.com")
    pids = _replica_pids("ChatGGUF")
    assert pids
    with connect(ws_url(live_server, "/ws/chat"), additional_headers=h) as ws:
        ws.send(
            json.dumps(
                {
                    "action": "start_stream",
                    "data": {"message": "Tell a long story.", "max_tokens": 500},
                }
            )
        )
        ev = json.loads(ws.recv(timeout=60))
        assert ev["type"] in ("token_update", "reasoning_step")
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        rest = events_until_final(ws)
        assert rest[-1]["type"] == "error", rest[-3:]
    # Serve replaces the replica; the next request succeeds
    deadline = time.monotonic() + 180
    while True:
        r = httpx.post(
            f"{live_server.url}/api/chat",
            headers=h,
            timeout=120,
            json={"message": "Hi", "max_tokens": 3},
        )
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert r.status_code == 200, r.text
