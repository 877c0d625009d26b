"""vLLM (CPU build) through the platform vs vLLM's own OpenAI server, and vs the GGUF engine.

    .venv/bin/python loadtests/bench_vllm.py --runs 8 --level-runs 2 --streams 1 4 16
    .venv/bin/python loadtests/bench_vllm.py --sequential --runs 3   # the sessions 5-6 design

One invocation, one machine, the same model folder (`make vllm-model`) and engine settings
(bf16, enforce_eager, max_num_seqs 16, max_model_len 2048, VLLM_CPU_KVCACHE_SPACE=2).

Paired (the default): vLLM's own OpenAI server (what `vllm serve` runs) and `lmwebui serve`
with one vLLM replica (and ChatGGUF beside it) run side by side, so both sides share the
cores with the same background processes, and their turns alternate: one greedy stream on
the own server (SSE), over the platform's WebSocket (provider vllm), over SSE straight to
the vLLM app (/vllm/v1, what the ingress itself calls) and over the platform's /v1 (SSE),
--runs rounds after a warm-up round, each round started by the next path. Between turns
the benchmark waits --gap seconds: after its last step vLLM's workers busy-wait for 1 s
(shm_broadcast's SpinCondition), which would otherwise slow whichever engine runs next.
Ratios are medians of the per-round ratios. Each turn's CPU time is summed per process
(loadtests/cpu.py); "CPU outside the engines" is the whole machine's but the engines' own
processes (VLLM::EngineCore, VLLM::Worker): each path's serving cost over the same
background. Then --streams concurrent streams on each path in turn.

Sequential (--sequential): the own server alone first (with --beside-platform, beside an
idle GGUF-only platform), then the platform.

Decode tok/s is (tokens - 1) / (last - first token) per stream; aggregate tok/s is the
completion tokens of all streams over the wall time. Prints markdown rows; medians.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtests.cpu import Grouper, cpu_snapshot, cpu_used, family
from loadtests.vllm_servers import idle_platform, platform, vllm_serve
from loadtests.vllm_turns import PROMPT, Turn, level_sse, level_ws, sse_turn, ws_turn
from loadtests.wsclient import ws_chat_url
from tests.support.live import login
from tests.support.vllm import MODEL_ID, VLLMSetup, app_headers, ensure_vllm


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


def levels(name: str, run: Any, streams: list[int], runs: int) -> dict[int, float]:
    out = {}
    for n in streams:
        results = [asyncio.run(run(n)) for _ in range(runs)]
        med = {k: statistics.median(r[k] for r in results) for k in results[0]}
        out[n] = med["tok_s"]
        tok_s, p50, p99 = med["tok_s"], med["ttft_p50"], med["ttft_p99"]
        print(f"| {name} | {n} | {tok_s:.1f} | {p50:.0f} | {p99:.0f} |", flush=True)
    return out


HEAD = "| path | tokens | TTFT ms | decode tok/s |\n| --- | --- | --- | --- |"
LEVEL_HEAD = (
    "| engine, path | streams | aggregate tok/s | TTFT p50 ms | TTFT p99 ms |\n"
    "| --- | --- | --- | --- | --- |"
)


# --- paired: both servers up, turns alternating -------------------------------------------

PATHS = {
    "own": "vLLM's own server, SSE",
    "ws": "platform WS → ingress → vLLM app",
    "app": "vLLM app direct (/vllm/v1, no platform ingress)",
    "v1": "platform /v1 SSE → ingress → vLLM app",
}
ENGINE_PROCESSES = ("VLLM::EngineCore", "VLLM::Worker")
Run = Callable[[], Awaitable[Turn]]


def outside_engines_ms_per_token(turns: list[Turn]) -> float:
    """CPU per streamed token of every process on the machine but the engines' (median over
    turns): the serving path's cost plus the same background for every path."""
    return statistics.median(
        1000 * sum(v for k, v in t.cpu.items() if not k.endswith(ENGINE_PROCESSES)) / t.tokens
        for t in turns
    )


async def measured(run: Run, group: Grouper) -> Turn:
    before = cpu_snapshot(group)
    turn = await run()
    turn.cpu = Counter(cpu_used(before, cpu_snapshot(group)))
    return turn


async def paired_single(
    runs: dict[str, Run], rounds: int, gap: float, group: Grouper
) -> dict[str, list[Turn]]:
    turns: dict[str, list[Turn]] = {name: [] for name in runs}
    names = list(runs)
    for i in range(rounds + 1):  # round 0 warms connections and engines
        for name in names[i % len(names) :] + names[: i % len(names)]:  # each first in turn
            turn = await measured(runs[name], group)
            await asyncio.sleep(gap)
            if i:
                turns[name].append(turn)
        print(
            f"round {i}: "
            + ", ".join(f"{n} {t[-1].decode_tok_s:.2f}" for n, t in turns.items() if t),
            flush=True,
        )
    return turns


def report_single(turns: dict[str, list[Turn]]) -> None:
    print("| path | tokens | TTFT ms | decode tok/s | CPU ms/token outside the engines |")
    print("| --- | --- | --- | --- | --- |")
    for name, label in PATHS.items():
        ts = turns[name]
        print(
            f"| {label} | {statistics.median(t.tokens for t in ts):.0f} "
            f"| {statistics.median(t.ttft_ms for t in ts):.1f} "
            f"| {statistics.median(t.decode_tok_s for t in ts):.2f} "
            f"| {outside_engines_ms_per_token(ts):.2f} |"
        )
    for name in ("ws", "app", "v1"):
        pairs = list(zip(turns[name], turns["own"], strict=True))
        ratios = [p.decode_tok_s / o.decode_tok_s for p, o in pairs]
        ttft = [p.ttft_ms - o.ttft_ms for p, o in pairs]
        print(
            f"{name} ÷ own, decode: median {statistics.median(ratios):.3f} "
            f"(rounds {min(ratios):.3f}-{max(ratios):.3f}); "
            f"TTFT {name} - own: median {statistics.median(ttft):+.1f} ms",
            flush=True,
        )
    last = turns["ws"][-1].cpu
    top = ", ".join(f"{k} {v:.3f}" for k, v in last.most_common(8))
    print(f"CPU seconds by process, last WS turn: {top}", flush=True)


def run_paired(setup: VLLMSetup, args: argparse.Namespace) -> None:
    with vllm_serve(setup) as own, platform(setup) as server:
        url = server.url
        key = app_headers(server.data_dir)  # the vLLM app serves only the platform's key
        h = login(url, "bench-vllm@example.com")
        ws = ws_chat_url(url)
        group = family(own.pid, "own")
        data = {"message": PROMPT, "max_tokens": args.max_tokens, "temperature": 0}

        async def single() -> dict[str, list[Turn]]:
            own_c = httpx.AsyncClient(base_url=own.url, timeout=300)
            plat_c = httpx.AsyncClient(base_url=url, headers=h, timeout=300)
            app_c = httpx.AsyncClient(base_url=url, headers=key, timeout=300)
            chat = "/v1/chat/completions"
            mt = args.max_tokens
            runs: dict[str, Run] = {
                "own": lambda: sse_turn(own_c, chat, MODEL_ID, PROMPT, mt, 0.0),
                "ws": lambda: ws_turn(ws, h, {**data, "provider": "vllm"}),
                "app": lambda: sse_turn(app_c, "/vllm" + chat, MODEL_ID, PROMPT, mt, 0.0),
                "v1": lambda: sse_turn(plat_c, chat, f"vllm/{MODEL_ID}", PROMPT, mt, 0.0),
            }
            async with own_c, plat_c, app_c:
                return await paired_single(runs, args.runs, args.gap, group)

        report_single(asyncio.run(single()))
        level_runs: dict[str, Callable[[int], Coroutine[Any, Any, dict[str, float]]]] = {
            "vLLM, own server SSE": lambda n: level_sse(own.url, MODEL_ID, n, args.max_tokens),
            "vLLM, platform WS": lambda n: level_ws(
                ws, h, {"provider": "vllm"}, n, args.max_tokens
            ),
            "vLLM, app direct SSE (/vllm/v1)": lambda n: level_sse(
                url, MODEL_ID, n, args.max_tokens, "/vllm/v1/chat/completions", key
            ),
            "GGUF, platform WS": lambda n: level_ws(ws, h, {}, n, args.max_tokens),
        }
        print(LEVEL_HEAD)
        agg: dict[str, dict[int, float]] = {}
        for n in args.streams:
            results: dict[str, list[dict[str, float]]] = {k: [] for k in level_runs}
            for _ in range(args.level_runs):
                for name, run in level_runs.items():
                    results[name].append(asyncio.run(run(n)))
                    time.sleep(args.gap)
            for name, rs in results.items():
                med = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
                agg.setdefault(name, {})[n] = med["tok_s"]
                print(
                    f"| {name} | {n} | {med['tok_s']:.1f} | {med['ttft_p50']:.0f} "
                    f"| {med['ttft_p99']:.0f} |",
                    flush=True,
                )
        for n in args.streams:
            plat, own_n = agg["vLLM, platform WS"][n], agg["vLLM, own server SSE"][n]
            gguf = agg["GGUF, platform WS"][n]
            ratios = f"platform / own server {plat / own_n:.3f}, vLLM / GGUF {plat / gguf:.2f}"
            print(f"{n} streams: {ratios}")


# --- sequential: the own server alone first, then the platform -----------------------------


def run_own(
    setup: VLLMSetup, args: argparse.Namespace
) -> tuple[dict[str, float], dict[int, float]]:
    """vLLM's own OpenAI server: the reference."""
    with idle_platform(args.beside_platform), vllm_serve(setup) as own_server:
        base = own_server.url
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
    with platform(setup) as server:
        url = server.url
        key = app_headers(server.data_dir)
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
            "vLLM app direct (/vllm/v1)",
            asyncio.run(single_sse(url, app_path, MODEL_ID, args, key)),
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
            lambda n: level_sse(
                url, MODEL_ID, n, args.max_tokens, "/vllm/v1/chat/completions", key
            ),
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
        "--gap", type=float, default=2.0, help="seconds between turns (paired mode)"
    )
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="the own server alone first, then the platform (the sessions 5-6 design)",
    )
    parser.add_argument(
        "--beside-platform",
        action="store_true",
        help="sequential: the own server beside an idle platform (same background load)",
    )
    args = parser.parse_args()
    setup = ensure_vllm()
    print(f"load before: {os.getloadavg()}", flush=True)
    if not args.sequential:
        run_paired(setup, args)
        print(f"load after: {os.getloadavg()}", flush=True)
        return
    own, own_lvl = run_own(setup, args)
    plat_lvl, gguf_lvl = run_platform(setup, args, own)
    for n in args.streams:
        ratio, vs_gguf = plat_lvl[n] / own_lvl[n], plat_lvl[n] / gguf_lvl[n]
        print(f"{n} streams: platform / vllm serve {ratio:.3f}, vLLM / GGUF {vs_gguf:.2f}")
    print(f"load after: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
