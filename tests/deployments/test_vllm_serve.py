"""vLLM for real: `lmwebui serve` with two vLLM models, an app and a replica each (vLLM's
CPU build, from the second environment `make vllm-env` builds, on the model `make
vllm-model` converts from the bundled GGUF, under two ids) beside ChatGGUF, checked through
HTTP, the WebSocket and the openai SDK."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from websockets.sync.client import connect

from tests.support.live import LiveServer, free_port, login, start_server
from tests.support.vllm import MODEL_ID, app_headers, engine_metric, ensure_vllm

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

V1_MODEL = f"vllm/{MODEL_ID}"
SECOND_ID = f"{MODEL_ID}-b"  # the same weights as a second model: its own app at /vllm-1
LONG = "Count from 1 to 2000, one number per line."


@dataclass
class VLLMPlatform:
    server: LiveServer
    metrics_url: str

    def metric(self, name: str) -> float | None:
        return engine_metric(self.metrics_url, name)


def _wait_until(what: str, check: Callable[[], bool], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not {what} within {timeout} s"
        time.sleep(1)


def _said_ready(server: LiveServer) -> bool:
    assert server.proc.poll() is None, server.tail()
    return "vLLM models ready" in server.log.read_text()


def _vllm_listed(server: LiveServer, headers: dict[str, str]) -> bool:
    try:
        r = httpx.get(f"{server.url}/v1/models", headers=headers, timeout=60)
    except httpx.TimeoutException:
        return False
    ids = {m["id"] for m in r.json()["data"]} if r.status_code == 200 else set()
    return {V1_MODEL, f"vllm/{SECOND_ID}"} <= ids


@pytest.fixture(scope="module")
def vllm_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VLLMPlatform]:
    setup = ensure_vllm()
    metrics_port = free_port()
    base: Path = tmp_path_factory.mktemp("vllm")
    server = start_server(
        base / "data",
        env={
            "LMWEBUI_VLLM__PYTHON": str(setup.python),
            "LMWEBUI_VLLM__MODELS": json.dumps(
                [
                    *json.loads(setup.models_setting()),
                    *json.loads(setup.models_setting(model_id=SECOND_ID, cpu_kvcache_gb=1)),
                ]
            ),
            "LMWEBUI_RAG__ENABLED": "false",
            "LMWEBUI_CHAT__N_SLOTS": "4",
            "LMWEBUI_RATE_LIMITS__AUTH": "60/minute",  # per client address (live.login)
            "LMWEBUI_METRICS_EXPORT_PORT": str(metrics_port),
        },
        ready_timeout=900,  # /api/health is ready once the vLLM app is (its component)
    )
    try:
        # `lmwebui serve` says so once the vLLM app's replicas are ready (serve.run returned)
        _wait_until("vLLM ready", lambda: _said_ready(server), 900)
        h = login(server.url, "vllm-setup@example.com")
        _wait_until("vLLM listed in /v1/models", lambda: _vllm_listed(server, h), 300)
        yield VLLMPlatform(server, f"http://127.0.0.1:{metrics_port}/metrics")
    finally:
        server.stop()


def _ws_url(server: LiveServer) -> str:
    return server.url.replace("http://", "ws://") + "/ws/chat"


def _start(ws: Any, **data: Any) -> None:
    ws.send(json.dumps({"action": "start_stream", "data": {"provider": "vllm", **data}}))


def _until_final(ws: Any) -> list[dict[str, Any]]:
    events = []
    while True:
        ev = json.loads(ws.recv(timeout=180))
        events.append(ev)
        if ev["type"] in ("final_answer", "error", "cancelled"):
            return events


def _ws_turn(server: LiveServer, h: dict[str, str], **data: Any) -> list[dict[str, Any]]:
    with connect(_ws_url(server), additional_headers=h) as ws:
        _start(ws, **data)
        return _until_final(ws)


def test_models_and_rest_chat(vllm_platform: VLLMPlatform) -> None:
    server = vllm_platform.server
    h = login(server.url, "vllm-rest@example.com")
    cards = httpx.get(f"{server.url}/v1/models", headers=h, timeout=30).json()["data"]
    vllm_cards = [c for c in cards if c["provider"] == "vllm"]
    assert sorted(c["id"] for c in vllm_cards) == [V1_MODEL, f"vllm/{SECOND_ID}"]
    assert any(c["provider"] == "gguf" for c in cards)  # beside ChatGGUF
    health = httpx.get(f"{server.url}/api/health", timeout=30).json()
    assert health["components"]["vllm"] is True and health["components"]["ChatGGUF"] is True
    r = httpx.post(
        f"{server.url}/api/chat",
        headers=h,
        timeout=180,
        json={"message": "What is the capital of France?", "provider": "vllm", "max_tokens": 16},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["provider"] == "vllm" and body["model"] == MODEL_ID
    assert body["response"] and body["usage"]["completion_tokens"] > 0


def test_the_vllm_app_serves_only_the_platform(vllm_platform: VLLMPlatform) -> None:
    """The vLLM app is on the platform's own port: without the platform's key nothing
    reaches vLLM (not /v1, not its routes outside /v1 that generate), so no one bypasses
    the platform's sign-in and rate limits. A user's token is not the key either."""
    server = vllm_platform.server
    h = login(server.url, "vllm-guard@example.com")
    app = f"{server.url}/vllm"
    chat = {"model": MODEL_ID, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}
    for headers in ({}, h, {"Authorization": "Bearer " + "0" * 64}):
        assert httpx.get(f"{app}/v1/models", headers=headers, timeout=30).status_code == 401
        r = httpx.post(f"{app}/v1/chat/completions", headers=headers, json=chat, timeout=30)
        assert r.status_code == 401
        r = httpx.post(f"{app}/invocations", headers=headers, json=chat, timeout=30)
        assert r.status_code == 401
        r = httpx.post(f"{app}/tokenize", headers=headers, json={"prompt": "x"}, timeout=30)
        assert r.status_code == 401
    key = app_headers(server.data_dir)
    listed = httpx.get(f"{app}/v1/models", headers=key, timeout=30)
    assert listed.status_code == 200 and listed.json()["data"][0]["id"] == MODEL_ID
    # the second model's app: guarded alike, and it serves that model only
    second = f"{server.url}/vllm-1"
    for headers in ({}, h):
        assert httpx.get(f"{second}/v1/models", headers=headers, timeout=30).status_code == 401
        r = httpx.post(f"{second}/tokenize", headers=headers, json={"prompt": "x"}, timeout=30)
        assert r.status_code == 401
    listed = httpx.get(f"{second}/v1/models", headers=key, timeout=30)
    assert [m["id"] for m in listed.json()["data"]] == [SECOND_ID]


def test_each_model_is_answered_by_its_own_app(vllm_platform: VLLMPlatform) -> None:
    """A request names its model; the ingress sends it to that model's app (one app per
    model: several in one app would need ray.serve.llm's unguarded router)."""
    server = vllm_platform.server
    h = login(server.url, "vllm-second@example.com")
    events = _ws_turn(server, h, model=SECOND_ID, message="Say hello.", max_tokens=12)
    assert events[-1]["type"] == "final_answer", events[-3:]
    r = httpx.post(
        f"{server.url}/api/chat",
        headers=h,
        timeout=180,
        json={"message": "Hi", "provider": "vllm", "model": SECOND_ID, "max_tokens": 8},
    )
    assert r.status_code == 200, r.text
    assert r.json()["model"] == SECOND_ID and r.json()["usage"]["completion_tokens"] > 0
    r = httpx.post(
        f"{server.url}/api/chat",
        headers=h,
        timeout=60,
        json={"message": "Hi", "provider": "vllm", "model": "not-served", "max_tokens": 8},
    )
    assert r.status_code == 404 and r.json()["error_code"] == "MODEL_NOT_FOUND"


def test_ws_stream_usage_and_deep_thinking(vllm_platform: VLLMPlatform) -> None:
    server = vllm_platform.server
    h = login(server.url, "vllm-ws@example.com")
    events = _ws_turn(server, h, message="Write a haiku about the sea.", max_tokens=24)
    final = events[-1]
    assert final["type"] == "final_answer", events[-3:]
    tokens = "".join(e["token"] for e in events if e["type"] == "token_update")
    assert tokens and final["content"] == tokens
    assert final["completion_tokens"] > 0 and final["prompt_tokens"] > 0
    assert final["tokens_used"] == final["prompt_tokens"] + final["completion_tokens"]
    # deep thinking: a reasoning pass on the same engine before the answer
    events = _ws_turn(
        server, h, message="Why is the sky blue?", max_tokens=48, deep_thinking_mode=True
    )
    final = events[-1]
    assert final["type"] == "final_answer", events[-3:]
    kinds = [e["type"] for e in events]
    assert "reasoning_step" in kinds and "token_update" in kinds, kinds
    assert kinds.index("token_update") > max(
        i for i, k in enumerate(kinds) if k == "reasoning_step"
    )


def test_cancel_aborts_generation_in_vllm(vllm_platform: VLLMPlatform) -> None:
    """Cancelling closes the HTTP stream to the vLLM app and vLLM aborts the request:
    its running count drops and it generates no more tokens."""
    server = vllm_platform.server
    h = login(server.url, "vllm-cancel@example.com")
    max_tokens = 1500
    before = vllm_platform.metric("generation_tokens_total") or 0.0
    with connect(_ws_url(server), additional_headers=h) as ws:
        _start(ws, message=LONG, max_tokens=max_tokens)
        ev = json.loads(ws.recv(timeout=180))
        session = ev["session_id"]
        _wait_until(
            "running in vLLM", lambda: (vllm_platform.metric("num_requests_running") or 0) >= 1
        )
        ws.send(json.dumps({"action": "cancel_session", "data": {"session_id": session}}))
        assert _until_final(ws)[-1]["type"] == "cancelled"
    _wait_until("aborted in vLLM", lambda: vllm_platform.metric("num_requests_running") == 0, 120)
    generated = (vllm_platform.metric("generation_tokens_total") or 0.0) - before
    assert 0 < generated < max_tokens  # stopped well before its length
    time.sleep(6)  # two of Ray's metric export periods: nothing more was generated
    assert (vllm_platform.metric("generation_tokens_total") or 0.0) - before == generated


def test_v1_json_and_sse_with_openai_sdk(vllm_platform: VLLMPlatform) -> None:
    server = vllm_platform.server
    h = login(server.url, "vllm-v1@example.com")
    key = httpx.post(
        f"{server.url}/api/api-keys", json={"name": "v"}, headers=h, timeout=30
    ).json()["key"]
    api = openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)
    assert V1_MODEL in [m.id for m in api.models.list().data]
    msgs: list[Any] = [{"role": "user", "content": "Name three colours."}]
    whole = api.chat.completions.create(model=V1_MODEL, messages=msgs, max_tokens=12, seed=1)
    assert whole.choices[0].message.content
    assert whole.usage is not None and whole.usage.completion_tokens > 0
    chunks = list(
        api.chat.completions.create(
            model=V1_MODEL,
            messages=msgs,
            max_tokens=12,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert any(c.choices and c.choices[0].finish_reason for c in chunks)


def test_concurrent_streams(vllm_platform: VLLMPlatform) -> None:
    server = vllm_platform.server
    h = login(server.url, "vllm-many@example.com")
    prompts = [f"Tell me a fact about the number {n}." for n in range(6)]
    with ThreadPoolExecutor(len(prompts)) as pool:
        results = list(pool.map(lambda p: _ws_turn(server, h, message=p, max_tokens=32), prompts))
    for events in results:
        assert events[-1]["type"] == "final_answer", events[-3:]
        assert events[-1]["content"] and events[-1]["completion_tokens"] > 0


def _llm_server_pids() -> list[int]:
    out = subprocess.run(
        ["pgrep", "-f", "ServeReplica:lmwebui-vllm:LLMServer"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return [int(p) for p in out.split()]


def test_replica_killed_mid_stream(vllm_platform: VLLMPlatform) -> None:
    """The client gets an `error` event, not a short answer; Serve replaces the replica
    and the next request succeeds on it."""
    server = vllm_platform.server
    h = login(server.url, "vllm-kill@example.com")
    pids = _llm_server_pids()
    assert pids
    with connect(_ws_url(server), additional_headers=h) as ws:
        _start(ws, message=LONG, max_tokens=1500)
        while json.loads(ws.recv(timeout=180))["type"] != "token_update":
            pass
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        rest = _until_final(ws)
        assert rest[-1]["type"] == "error", rest[-3:]

    def answered() -> bool:
        r = httpx.post(
            f"{server.url}/api/chat",
            headers=h,
            timeout=120,
            json={"message": "Hi", "provider": "vllm", "max_tokens": 4},
        )
        return r.status_code == 200

    _wait_until("answered by the replacement replica", answered, 600)
    assert set(_llm_server_pids()).isdisjoint(pids)
