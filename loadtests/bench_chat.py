"""Chat through the whole platform (WebSocket → Serve ingress → ChatGGUF) vs in-process.

    .venv/bin/python loadtests/bench_chat.py single            # ratio + TTFT delta + cancel
    .venv/bin/python loadtests/bench_chat.py concurrency --streams 1 4 16 64 --replicas 1
    .venv/bin/python loadtests/bench_chat.py multiturn         # turn 1 (cold) / 2 / 10 TTFT
    .venv/bin/python loadtests/bench_chat.py llama-server --server-bin PATH --streams 1 4 16 64

Every platform run starts `lmwebui serve` with rate limits off (the benchmark would hit the
60/min chat limit) and prints markdown rows. Medians over --runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtests.inprocess import inprocess_engine, inprocess_llama
from loadtests.sse import sse_turns
from loadtests.stats import percentile
from loadtests.wsclient import AsyncChatClient, chat_turn, ws_chat_url
from tests.support.live import LiveServer, free_port, start_server, wait_ready
from tests.support.live import login as login_at
from tests.support.models import bundled_model_path

PROMPT = "Write a long, detailed story about a lighthouse keeper and a storm."
TOPICS = [
    "the printing press",
    "volcanoes",
    "honey bees",
    "the Sahara",
    "the telephone",
    "deep sea creatures",
    "chess",
    "bread",
    "the water cycle",
    "ancient Rome",
    "the solar system",
    "a lighthouse",
    "the first flight",
    "coral reefs",
    "the Silk Road",
    "a painting robot",
]


@dataclass
class Stream:
    ttft: float
    tokens: int
    decode_s: float
    error: str | None = None


@contextmanager
def platform(env: dict[str, str]) -> Iterator[LiveServer]:
    base = Path(tempfile.mkdtemp(prefix="bench-chat-"))
    server = start_server(base / "data", env={"LMWEBUI_RATE_LIMITS__ENABLED": "false", **env})
    try:
        yield server
    finally:
        server.stop()


def login(server: LiveServer) -> dict[str, str]:
    return login_at(server.url)


async def ws_stream(url: str, headers: dict[str, str], data: dict[str, Any]) -> Stream:
    turn = await chat_turn(url, headers, data)
    if not turn.ok:
        return Stream(0, 0, 0, turn.error)
    return Stream(turn.ttft_s, turn.completion_tokens, turn.decode_s)


def ws_url(server: LiveServer) -> str:
    return ws_chat_url(server.url)


async def concurrent_streams(server: LiveServer, n: int, max_tokens: int) -> dict[str, float]:
    headers = login(server)
    t0 = time.perf_counter()
    streams = await asyncio.gather(
        *(
            ws_stream(
                ws_url(server),
                headers,
                {
                    "message": f"Write a story about {TOPICS[i % len(TOPICS)]} (#{i}).",
                    "max_tokens": max_tokens,
                    "temperature": 0.7,
                },
            )
            for i in range(n)
        )
    )
    wall = time.perf_counter() - t0
    ok = [s for s in streams if s.error is None]
    ttfts = [s.ttft * 1000 for s in ok] or [0.0]
    return {
        "tok_s": sum(s.tokens for s in ok) / wall,
        "ttft_p50": statistics.median(ttfts),
        "ttft_p99": percentile(ttfts, 0.99),
        "errors": float(len(streams) - len(ok)),
    }


def replica_env(args: argparse.Namespace) -> dict[str, str]:
    """ChatGGUF replicas sharing this machine's cores; affinity routing on unless disabled."""
    env = {"LMWEBUI_CHAT__REPLICAS": str(args.replicas)}
    if args.replicas > 1:
        env["LMWEBUI_CHAT__N_THREADS"] = str(max(1, (os.cpu_count() or 2) // args.replicas))
    if not args.affinity:
        env["LMWEBUI_CHAT__AFFINITY_ROUTING"] = "false"
    return env


def cmd_concurrency(args: argparse.Namespace) -> None:
    env = replica_env(args)
    print("| replicas | streams | aggregate tok/s | TTFT p50 ms | TTFT p99 ms | errors |")
    print("| --- | --- | --- | --- | --- | --- |")
    with platform(env) as server:
        asyncio.run(concurrent_streams(server, 2, 8))  # warm-up
        for n in args.streams:
            runs = [
                asyncio.run(concurrent_streams(server, n, args.max_tokens))
                for _ in range(args.runs)
            ]
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(
                f"| {args.replicas} | {n} | {med['tok_s']:.1f} | {med['ttft_p50']:.0f} | "
                f"{med['ttft_p99']:.0f} | {int(sum(r['errors'] for r in runs))} |",
                flush=True,
            )


# ----------------------------------------------------------------- single stream vs in-process
async def cancel_to_next_token(server: LiveServer, headers: dict[str, str]) -> float:
    async with AsyncChatClient.connect(ws_url(server), headers) as chat:
        await chat.start({"message": PROMPT, "max_tokens": 400})
        ev = await chat.wait_for("token_update")
        t0 = time.perf_counter()
        await chat.cancel(ev["session_id"])
        await chat.wait_for("cancelled")
        await chat.start({"message": "Hi", "max_tokens": 4})
        await chat.wait_for("token_update")
        return (time.perf_counter() - t0) * 1000


def cmd_single(args: argparse.Namespace) -> None:
    from lmwebui.chat.protocol import ChatMessage
    from lmwebui.inference.chat_format import gemma_format

    formatted = gemma_format([ChatMessage(role="user", content=PROMPT)])
    llama_rate, llama_ttft = inprocess_llama(formatted.text, args.max_tokens, args.runs)

    from llama_cpp import Llama

    tok = Llama(str(bundled_model_path()), vocab_only=True, verbose=False)
    prompt_tokens = tok.tokenize(formatted.text.encode(), add_bos=True, special=True)
    engine_rate, engine_ttft = asyncio.run(
        inprocess_engine(prompt_tokens, args.max_tokens, args.runs)
    )
    with platform({}) as server:
        headers = login(server)
        data = {"message": PROMPT, "max_tokens": args.max_tokens, "temperature": 0}
        asyncio.run(ws_stream(ws_url(server), headers, data))  # warm the prompt cache
        streams, sse, me = [], [], []
        for _ in range(args.runs):  # WS and SSE interleaved: both see the same machine
            streams.append(asyncio.run(ws_stream(ws_url(server), headers, data)))
            one, request = asyncio.run(sse_turns(server.url, headers, PROMPT, args.max_tokens, 1))
            sse += [Stream(t.ttft_s, t.completion_tokens, t.decode_s) for t in one]
            me += request
        cancels = [asyncio.run(cancel_to_next_token(server, headers)) for _ in range(args.runs)]
    rate = statistics.median((s.tokens - 1) / s.decode_s for s in streams)
    ttft = statistics.median(s.ttft * 1000 for s in streams)
    sse_rate = statistics.median((s.tokens - 1) / s.decode_s for s in sse)
    sse_ttft = statistics.median(s.ttft * 1000 for s in sse)
    print("| path | decode tok/s | TTFT p50 ms (cached prompt) |")
    print("| --- | --- | --- |")
    print(f"| llama-cpp-python high-level API, in-process | {llama_rate:.1f} | {llama_ttft:.1f} |")
    print(f"| lmwebui BatchedEngine, in-process | {engine_rate:.1f} | {engine_ttft:.1f} |")
    print(f"| platform WebSocket (Serve, 1 replica) | {rate:.1f} | {ttft:.1f} |")
    print(f"| platform SSE /v1/chat/completions (keep-alive) | {sse_rate:.1f} | {sse_ttft:.1f} |")
    print(
        f"\nratio platform / llama-cpp-python: {rate / llama_rate:.3f}; "
        f"platform / in-process engine: {rate / engine_rate:.3f}; "
        f"SSE / llama-cpp-python: {sse_rate / llama_rate:.3f}"
    )
    print(
        f"TTFT platform minus in-process engine: WS {ttft - engine_ttft:.1f} ms, "
        f"SSE {sse_ttft - engine_ttft:.1f} ms"
    )
    print(
        f"an authenticated GET /api/auth/me on the SSE connection: p50 "
        f"{statistics.median(me):.1f} ms (what each HTTP request pays; a socket pays it once)"
    )
    print(f"cancel_session → next stream's first token: p50 {statistics.median(cancels):.0f} ms")


# ---------------------------------------------------------------------- multi-turn prefix reuse
HISTORY = (
    "The following are notes from a long meeting about the harbour renovation project. "
    "The committee discussed budgets, timelines, dredging permits, the lighthouse repairs, "
    "ferry schedules, fishing quotas, storm defences and the new visitor centre. "
) * 40


def cmd_multiturn(args: argparse.Namespace) -> None:
    async def turn(
        server: LiveServer, headers: dict[str, str], data: dict[str, Any]
    ) -> tuple[float, str]:
        result = await chat_turn(ws_url(server), headers, data)
        if not result.ok or result.conversation_id is None:
            raise RuntimeError(result.event)
        return result.ttft_s * 1000, result.conversation_id

    rows: dict[int, list[float]] = {1: [], 2: [], 10: []}
    with platform(replica_env(args)) as server:
        headers = login(server)
        for run in range(args.runs):
            base = {"max_tokens": 16, "temperature": 0}
            # a history no earlier run has seen: turn 1 is a cold prefill every time
            first = (
                f"Meeting {run} of {time.time()}. {HISTORY}\nSummarise the notes in one sentence."
            )
            t1, cid = asyncio.run(turn(server, headers, {**base, "message": first}))
            rows[1].append(t1)
            for n in range(2, 11):
                t, _ = asyncio.run(
                    turn(
                        server,
                        headers,
                        {**base, "conversation_id": cid, "message": f"Question {n}: and then?"},
                    )
                )
                if n in rows:
                    rows[n].append(t)
    routing = "affinity" if args.affinity else "default (power of two choices)"
    print("| replicas | routing | turn | history tokens (approx.) | TTFT p50 ms | TTFT max ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for n, values in rows.items():
        print(
            f"| {args.replicas} | {routing} | {n} | ~{1700 + 40 * (n - 1)} | "
            f"{statistics.median(values):.0f} | {max(values):.0f} |"
        )


# ---------------------------------------------------------------------- llama.cpp's own server
def cmd_llama_server(args: argparse.Namespace) -> None:
    port = free_port()
    slots = max(args.streams)
    slots = min(slots, 16)
    proc = subprocess.Popen(
        [
            args.server_bin,
            "-m",
            str(bundled_model_path()),
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "-np",
            str(slots),
            "-c",
            str(4096 * slots),
            "-cb",
            "-t",
            str(os.cpu_count()),
            "--chat-template",
            "gemma",
            "-fa",
            "on",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{base}/health", proc, 60, "llama-server")

        async def one(session: aiohttp.ClientSession, i: int) -> Stream:
            t0 = time.perf_counter()
            first = last = 0.0
            n = 0
            body = {
                "messages": [
                    {
                        "role": "user",
                        "content": f"Write a story about {TOPICS[i % len(TOPICS)]} (#{i}).",
                    }
                ],
                "max_tokens": args.max_tokens,
                "temperature": 0.7,
                "stream": True,
            }
            async with session.post(f"{base}/v1/chat/completions", json=body) as r:
                async for line in r.content:
                    if line.startswith(b"data: {"):
                        chunk = json.loads(line[6:])
                        if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                            now = time.perf_counter()
                            first = first or now
                            last = now
                            n += 1
            return Stream(first - t0, n, last - first)

        async def level(n: int) -> dict[str, float]:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as s:
                t0 = time.perf_counter()
                streams = await asyncio.gather(*(one(s, i) for i in range(n)))
                wall = time.perf_counter() - t0
            ttfts = [s.ttft * 1000 for s in streams]
            return {
                "tok_s": sum(s.tokens for s in streams) / wall,
                "ttft_p50": statistics.median(ttfts),
                "ttft_p99": percentile(ttfts, 0.99),
            }

        asyncio.run(level(2))
        print("| llama-server slots | streams | aggregate tok/s | TTFT p50 ms | TTFT p99 ms |")
        print("| --- | --- | --- | --- | --- |")
        for n in args.streams:
            runs = [asyncio.run(level(n)) for _ in range(args.runs)]
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(
                f"| {slots} | {n} | {med['tok_s']:.1f} | {med['ttft_p50']:.0f} | "
                f"{med['ttft_p99']:.0f} |",
                flush=True,
            )
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["single", "concurrency", "multiturn", "llama-server"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--no-affinity", dest="affinity", action="store_false")
    parser.add_argument("--server-bin", default="llama-server")
    args = parser.parse_args()
    {
        "single": cmd_single,
        "concurrency": cmd_concurrency,
        "multiturn": cmd_multiturn,
        "llama-server": cmd_llama_server,
    }[args.mode](args)


if __name__ == "__main__":
    main()
