"""vLLM (CPU build) through the platform vs vLLM's own OpenAI server, and vs the GGUF engine.

    .venv/bin/python loadtests/bench_vllm.py --runs 5 --streams 1 4 16
    .venv/bin/python loadtests/bench_vllm.py --beside-platform   # reference under the same load

One invocation, one machine, the same model folder (`make vllm-model`) and engine settings
(bf16, enforce_eager, max_num_seqs 16, max_model_len 2048, VLLM_CPU_KVCACHE_SPACE=2):

1. vLLM's own OpenAI server (what `vllm serve` runs: `python -m
   vllm.entrypoints.openai.api_server` in the vLLM environment): one stream over SSE
   (--runs times, greedy), then --streams concurrent SSE streams.
2. `lmwebui serve` with one vLLM replica (and ChatGGUF beside it): the same single stream
   over the platform's WebSocket (provider vllm), over SSE straight to the vLLM app
   (/vllm/v1, what the ingress itself calls) and over the platform's /v1 (SSE); then
   --streams concurrent WebSocket streams on vLLM and on the GGUF engine.

Decode tok/s is (tokens - 1) / (last - first token) per stream; aggregate tok/s is the
completion tokens of all streams over the wall time. Prints markdown rows; medians.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtests.sse import timed_stream
from loadtests.stats import percentile
from loadtests.wsclient import chat_turn, ws_chat_url
from tests.support.live import REPO, free_port, login, start_server, wait_ready
from tests.support.vllm import MODEL_ID, VLLMSetup, ensure_vllm

PROMPT = "Write a long, detailed story about a lighthouse keeper and a storm."
TOPICS = ["volcanoes", "honey bees", "the Sahara", "chess", "bread", "coral reefs", "Rome"]
ENGINE_ARGS = ["--dtype", "bfloat16", "--max-model-len", "2048", "--enforce-eager"]


@dataclass
class Turn:
    ttft_ms: float
    tokens: int
    decode_tok_s: float


def _turn(ttft_s: float, tokens: int, decode_s: float) -> Turn:
    rate = (tokens - 1) / decode_s if tokens > 1 and decode_s > 0 else 0.0
    return Turn(ttft_s * 1000, tokens, rate)


async def sse_turn(
    client: httpx.AsyncClient, path: str, model: str, message: str, max_tokens: int, temp: float
) -> Turn:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": message}],
        "max_tokens": max_tokens,
        "temperature": temp,  # top_p unset, as the platform leaves it for vLLM
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    t = await timed_stream(client, path, body)
    return _turn(t.ttft_s, t.completion_tokens, t.decode_s)


async def ws_turn(url: str, headers: dict[str, str], data: dict[str, Any]) -> Turn:
    turn = await chat_turn(url, headers, data)
    if not turn.ok:
        raise RuntimeError(f"WS turn failed: {turn.error}")
    return _turn(turn.ttft_s, turn.completion_tokens, turn.decode_s)


def median_row(name: str, turns: list[Turn]) -> dict[str, float]:
    row = {
        "ttft_ms": statistics.median(t.ttft_ms for t in turns),
        "decode_tok_s": statistics.median(t.decode_tok_s for t in turns),
        "tokens": statistics.median(t.tokens for t in turns),
    }
    print(
        f"| {name} | {row['tokens']:.0f} | {row['ttft_ms']:.1f} | {row['decode_tok_s']:.2f} |",
        flush=True,
    )
    return row


async def single_sse(
    base: str, path: str, model: str, args: argparse.Namespace, h: dict[str, str]
) -> list[Turn]:
    async with httpx.AsyncClient(base_url=base, headers=h, timeout=300) as client:
        turns = [
            await sse_turn(client, path, model, PROMPT, args.max_tokens, 0.0)
            for _ in range(args.runs + 1)
        ]
    return turns[1:]  # the first warms the connection and the engine


async def single_ws(url: str, h: dict[str, str], data: dict[str, Any], runs: int) -> list[Turn]:
    turns = [await ws_turn(url, h, data) for _ in range(runs + 1)]
    return turns[1:]


async def level_sse(
    base: str, model: str, n: int, max_tokens: int, path: str = "/v1/chat/completions"
) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        t0 = time.perf_counter()
        turns = await asyncio.gather(
            *(sse_turn(client, path, model, _story(i), max_tokens, 0.7) for i in range(n))
        )
    return _level(turns, time.perf_counter() - t0)


async def level_ws(
    url: str, h: dict[str, str], extra: dict[str, Any], n: int, max_tokens: int
) -> dict[str, float]:
    t0 = time.perf_counter()
    turns = await asyncio.gather(
        *(
            ws_turn(
                url,
                h,
                {"message": _story(i), "max_tokens": max_tokens, "temperature": 0.7, **extra},
            )
            for i in range(n)
        )
    )
    return _level(list(turns), time.perf_counter() - t0)


def _story(i: int) -> str:
    return f"Write a story about {TOPICS[i % len(TOPICS)]} (#{i})."


def _level(turns: list[Turn], wall: float) -> dict[str, float]:
    ttfts = [t.ttft_ms for t in turns]
    return {
        "tok_s": sum(t.tokens for t in turns) / wall,
        "ttft_p50": statistics.median(ttfts),
        "ttft_p99": percentile(ttfts, 0.99),
    }


def levels(name: str, run: Any, streams: list[int], runs: int) -> dict[int, float]:
    out = {}
    for n in streams:
        results = [asyncio.run(run(n)) for _ in range(runs)]
        med = {k: statistics.median(r[k] for r in results) for k in results[0]}
        out[n] = med["tok_s"]
        tok_s, p50, p99 = med["tok_s"], med["ttft_p50"], med["ttft_p99"]
        print(f"| {name} | {n} | {tok_s:.1f} | {p50:.0f} | {p99:.0f} |", flush=True)
    return out


@contextmanager
def vllm_serve(setup: VLLMSetup) -> Iterator[str]:
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="bench-vllm-")) / "vllm-serve.log"
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "2"}
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            # vLLM's own OpenAI server (`vllm serve`; the CLI wants a distribution named
            # "vllm", and the CPU build's is "vllm-cpu")
            [
                str(setup.python),
                "-m",
                "vllm.entrypoints.openai.api_server",
                "--model",
                str(setup.model_dir),
                "--served-model-name",
                MODEL_ID,
                "--port",
                str(port),
                "--host",
                "127.0.0.1",
                "--max-num-seqs",
                "16",
                *ENGINE_ARGS,
            ],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_ready(f"{base}/health", proc, 600, "vllm serve")
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}:\n{log.read_text()[-3000:]}") from None
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
            proc.wait(60)


@contextmanager
def platform(setup: VLLMSetup) -> Iterator[str]:
    base = Path(tempfile.mkdtemp(prefix="bench-vllm-platform-"))
    server = start_server(
        base / "data",
        env={
            "LMWEBUI_RATE_LIMITS__ENABLED": "false",
            "LMWEBUI_RAG__ENABLED": "false",
            "LMWEBUI_VLLM__PYTHON": str(setup.python),
            "LMWEBUI_VLLM__MODELS": setup.models_setting(),
        },
    )
    try:
        deadline = time.monotonic() + 900
        while "vLLM models ready" not in server.log.read_text():
            assert server.proc.poll() is None and time.monotonic() < deadline, server.tail()
            time.sleep(1)
        yield server.url
    finally:
        server.stop()


HEAD = "| path | tokens | TTFT ms | decode tok/s |\n| --- | --- | --- | --- |"
LEVEL_HEAD = (
    "| engine, path | streams | aggregate tok/s | TTFT p50 ms | TTFT p99 ms |\n"
    "| --- | --- | --- | --- | --- |"
)


@contextmanager
def idle_platform(enabled: bool) -> Iterator[None]:
    """With --beside-platform: an idle `lmwebui serve` (GGUF only, no vLLM) while vLLM's own
    server is measured, so both sides share the cores with the same background processes
    (Ray's GCS, raylet and agents, HAProxy, idle replicas)."""
    if not enabled:
        yield
        return
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "data")
        try:
            yield
        finally:
            server.stop()


def run_own(
    setup: VLLMSetup, args: argparse.Namespace
) -> tuple[dict[str, float], dict[int, float]]:
    """vLLM's own OpenAI server: the reference."""
    with idle_platform(args.beside_platform), vllm_serve(setup) as base:
        print(HEAD)
        path = "/v1/chat/completions"
        own = median_row("vllm serve, SSE", asyncio.run(single_sse(base, path, MODEL_ID, args, {})))
        print(LEVEL_HEAD)
        lvl = levels(
            "vLLM, vllm serve SSE",
            lambda n: level_sse(base, MODEL_ID, n, args.max_tokens),
            args.streams,
            args.level_runs,
        )
    return own, lvl


def run_platform(
    setup: VLLMSetup, args: argparse.Namespace, own: dict[str, float]
) -> tuple[dict[int, float], dict[int, float]]:
    with platform(setup) as url:
        h = login(url, "bench-vllm@example.com")
        ws = ws_chat_url(url)
        data = {"message": PROMPT, "max_tokens": args.max_tokens, "temperature": 0}
        print(HEAD)
        plat = median_row(
            "platform WS → vLLM",
            asyncio.run(single_ws(ws, h, {**data, "provider": "vllm"}, args.runs)),
        )
        app_path = "/vllm/v1/chat/completions"
        app = median_row(
            "vLLM app direct (/vllm/v1)", asyncio.run(single_sse(url, app_path, MODEL_ID, args, {}))
        )
        v1 = median_row(
            "platform /v1 SSE → vLLM",
            asyncio.run(single_sse(url, "/v1/chat/completions", f"vllm/{MODEL_ID}", args, h)),
        )
        ratio = plat["decode_tok_s"] / own["decode_tok_s"]
        print(
            f"single stream: WS / vllm serve decode tok/s {ratio:.3f}; "
            f"TTFT WS - vllm serve {plat['ttft_ms'] - own['ttft_ms']:+.1f} ms; "
            f"TTFT WS - vLLM app direct {plat['ttft_ms'] - app['ttft_ms']:+.1f} ms; "
            f"TTFT /v1 - vLLM app direct {v1['ttft_ms'] - app['ttft_ms']:+.1f} ms",
            flush=True,
        )
        print(LEVEL_HEAD)
        plat_lvl = levels(
            "vLLM, platform WS",
            lambda n: level_ws(ws, h, {"provider": "vllm"}, n, args.max_tokens),
            args.streams,
            args.level_runs,
        )
        levels(
            "vLLM, app direct SSE (/vllm/v1)",
            lambda n: level_sse(url, MODEL_ID, n, args.max_tokens, "/vllm/v1/chat/completions"),
            args.streams,
            args.level_runs,
        )
        gguf_lvl = levels(
            "GGUF, platform WS",
            lambda n: level_ws(ws, h, {}, n, args.max_tokens),
            args.streams,
            args.level_runs,
        )
    return plat_lvl, gguf_lvl


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--level-runs", type=int, default=3)
    parser.add_argument(
        "--beside-platform",
        action="store_true",
        help="measure vLLM's own server beside an idle platform (same background load)",
    )
    args = parser.parse_args()
    setup = ensure_vllm()
    print(f"load before: {os.getloadavg()}", flush=True)
    own, own_lvl = run_own(setup, args)
    plat_lvl, gguf_lvl = run_platform(setup, args, own)
    for n in args.streams:
        ratio, vs_gguf = plat_lvl[n] / own_lvl[n], plat_lvl[n] / gguf_lvl[n]
        print(f"{n} streams: platform / vllm serve {ratio:.3f}, vLLM / GGUF {vs_gguf:.2f}")
    print(f"load after: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
