"""Benchmark the continuous-batching GGUF engine (lmwebui.inference.engine).

Measures aggregate decode throughput and time-to-first-token at several concurrency levels
(n_slots = streams), then the TTFT of a chat "second turn" on a long history whose KV is
cached vs. the same prompt prefilled cold. Prints markdown tables.

    python loadtests/bench_engine.py --model /tmp/models/gemma3-270m-q4_k_m.gguf
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lmwebui.inference.engine import (
    BatchedEngine,
    EngineConfig,
    GenerationChunk,
    GenerationResult,
    SamplingParams,
)
from loadtests.stats import percentile

TOPICS = [
    "the history of the printing press",
    "how volcanoes form",
    "the life of honey bees",
    "a journey across the Sahara",
    "the invention of the telephone",
    "deep sea creatures",
    "the rules of chess",
    "how bread is baked",
    "the water cycle",
    "ancient Rome",
    "the solar system",
    "a lighthouse keeper",
    "the first airplane flight",
    "coral reefs",
    "the Silk Road",
    "a robot learning to paint",
]


@dataclass
class Sample:
    ttft: float
    tokens: int
    cached: int


async def one_request(engine: BatchedEngine, prompt: list[int], sp: SamplingParams) -> Sample:
    t0 = time.perf_counter()
    ttft = -1.0
    tokens = cached = 0
    async for item in engine.generate(prompt, sp):
        if isinstance(item, GenerationChunk):
            if ttft < 0:
                ttft = time.perf_counter() - t0
            tokens += len(item.token_ids)
        elif isinstance(item, GenerationResult):
            cached = item.cached_tokens
    return Sample(ttft if ttft >= 0 else time.perf_counter() - t0, tokens, cached)


def make_engine(args: argparse.Namespace, n_slots: int, n_ctx: int) -> BatchedEngine:
    return BatchedEngine(
        EngineConfig(
            model_path=args.model,
            n_slots=n_slots,
            n_ctx_per_slot=n_ctx,
            n_threads=args.threads,
            n_threads_single=args.threads_single,
            n_batch=args.n_batch,
            prefill_chunk=args.prefill_chunk,
            flash_attn=args.flash_attn,
            deterministic=args.deterministic,
        )
    )


async def bench_concurrency(args: argparse.Namespace, streams: int) -> dict[str, float]:
    engine = make_engine(args, streams, args.n_ctx)
    try:
        sp = SamplingParams(temperature=args.temperature, max_tokens=args.max_tokens, seed=7)
        await one_request(engine, engine.tokenize("Warm up."), SamplingParams(max_tokens=4))
        rounds = max(args.rounds, 4 if streams == 1 else 1)

        async def client(i: int) -> list[Sample]:
            out = []
            for r in range(rounds):
                topic = TOPICS[(i + r * streams) % len(TOPICS)]
                text = f"Write a long, detailed essay about {topic}. Request {i}-{r}.\n\n"
                out.append(await one_request(engine, engine.tokenize(text), sp))
            return out

        t0 = time.perf_counter()
        per_client = await asyncio.gather(*(client(i) for i in range(streams)))
        wall = time.perf_counter() - t0
        samples = [s for c in per_client for s in c]
        tokens = sum(s.tokens for s in samples)
        ttfts = [s.ttft * 1000 for s in samples]
        return {
            "streams": streams,
            "requests": len(samples),
            "tokens": tokens,
            "wall_s": wall,
            "tok_s": tokens / wall,
            "ttft_p50": statistics.median(ttfts),
            "ttft_p99": percentile(ttfts, 0.99),
        }
    finally:
        engine.close()


def history_tokens(engine: BatchedEngine, n: int) -> list[int]:
    parts = []
    i = 0
    while True:
        topic = TOPICS[i % len(TOPICS)]
        parts.append(
            f"User: Tell me something about {topic}.\nAssistant: Here is a short note about "
            f"{topic}. It has a long history, many interesting details and a lot of people "
            f"who studied it over the centuries, writing books and papers (note {i}).\n"
        )
        toks = engine.tokenize("".join(parts))
        if len(toks) >= n:
            return toks[:n]
        i += 1


async def bench_second_turn(args: argparse.Namespace) -> dict[str, float]:
    sp = SamplingParams(temperature=0.0, max_tokens=8)
    engine = make_engine(args, 1, 4096)
    cold_engine = make_engine(args, 1, 4096)
    try:
        history = history_tokens(engine, args.history)
        await one_request(engine, engine.tokenize("Warm up."), SamplingParams(max_tokens=2))
        await one_request(cold_engine, engine.tokenize("Warm up."), SamplingParams(max_tokens=2))
        turn1 = history + engine.tokenize("User: Summarise.\nAssistant:", add_bos=False)
        first_tokens: list[int] = []
        t0 = time.perf_counter()
        async for item in engine.generate(turn1, sp):
            if isinstance(item, GenerationChunk):
                first_tokens += item.token_ids
        turn1_s = time.perf_counter() - t0
        turn2 = (
            turn1
            + first_tokens
            + engine.tokenize("\nUser: Thanks! One more detail?\nAssistant:", add_bos=False)
        )
        warm = await one_request(engine, turn2, sp)
        cold = await one_request(cold_engine, turn2, sp)
        return {
            "history": len(history),
            "turn2_prompt": len(turn2),
            "turn1_total_s": turn1_s,
            "warm_ttft_ms": warm.ttft * 1000,
            "warm_cached": warm.cached,
            "cold_ttft_ms": cold.ttft * 1000,
            "cold_cached": cold.cached,
        }
    finally:
        engine.close()
        cold_engine.close()


async def main(args: argparse.Namespace) -> None:
    mode = "flash-attn" if args.flash_attn else "default"
    mode = "deterministic" if args.deterministic else mode
    threads = EngineConfig(args.model, n_threads=args.threads, n_threads_single=args.threads_single)
    print(
        f"model={os.path.basename(args.model)} threads(batch, single)="
        f"{threads.resolved_threads()} "
        f"mode={mode} max_tokens={args.max_tokens} temperature={args.temperature}\n"
    )
    print("| streams | requests | tokens | wall s | aggregate tok/s | TTFT p50 ms | TTFT p99 ms |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.streams:
        r = await bench_concurrency(args, n)
        print(
            f"| {n} | {r['requests']:.0f} | {r['tokens']:.0f} | {r['wall_s']:.1f} | "
            f"{r['tok_s']:.1f} | {r['ttft_p50']:.0f} | {r['ttft_p99']:.0f} |",
            flush=True,
        )
    if args.history > 0:
        t = await bench_second_turn(args)
        print("\n| second turn | prompt tokens | cached tokens | TTFT ms |")
        print("|---|---:|---:|---:|")
        print(
            f"| warm (KV prefix reuse) | {t['turn2_prompt']:.0f} | {t['warm_cached']:.0f} | "
            f"{t['warm_ttft_ms']:.0f} |"
        )
        print(
            f"| cold prefill (fresh engine) | {t['turn2_prompt']:.0f} | "
            f"{t['cold_cached']:.0f} | {t['cold_ttft_ms']:.0f} |"
        )
        print(
            f"\n(history {t['history']:.0f} tokens; speed-up "
            f"{t['cold_ttft_ms'] / max(t['warm_ttft_ms'], 1e-9):.1f}x)"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument(
        "--model",
        default=os.environ.get("LMWEBUI_BENCH_MODEL", "/tmp/models/gemma3-270m-q4_k_m.gguf"),
    )
    p.add_argument(
        "--streams",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1, 4, 16],
        help="comma-separated concurrency levels (<= 16)",
    )
    p.add_argument("--max-tokens", type=int, default=64)
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--rounds", type=int, default=1, help="requests per stream (>= 4 at 1)")
    p.add_argument("--n-ctx", type=int, default=1024, help="context per slot")
    p.add_argument("--n-batch", type=int, default=512)
    p.add_argument("--prefill-chunk", type=int, default=256)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument(
        "--threads-single",
        type=int,
        default=None,
        help="threads when one sequence decodes alone (default: half of --threads, as a "
        "replica runs; equal to --threads is what llama-server does)",
    )
    p.add_argument("--flash-attn", action="store_true")
    p.add_argument("--deterministic", action="store_true")
    p.add_argument("--history", type=int, default=1700, help="second-turn history (0: skip)")
    args = p.parse_args(argv)
    if any(n < 1 or n > 16 for n in args.streams):
        p.error("--streams values must be in 1..16")
    return args


if __name__ == "__main__":
    logging.getLogger("lmwebui.inference.llama_cpp").setLevel(logging.ERROR)  # model-load warnings
    asyncio.run(main(parse_args(sys.argv[1:])))
