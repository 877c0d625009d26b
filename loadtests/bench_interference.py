"""What an idle platform costs the GGUF engine on the same cores.

The engine a ChatGGUF replica builds (same settings) runs in this process: first
alone, then with an idle `lmwebui serve` (Ray, Serve, every replica and actor, no traffic)
beside it on the same machine; repeated --rounds times, interleaved, because a shared
machine's speed drifts during a session. Same request pattern as bench_chat.py's
concurrency mode: N streams started together, --max-tokens each, temperature 0.7.

    .venv/bin/python loadtests/bench_interference.py --streams 1 4 16 --rounds 2
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lmwebui.inference.engine import BatchedEngine, EngineConfig, GenerationChunk, SamplingParams
from lmwebui.inference.loaded import load_model
from lmwebui.settings import load_settings
from loadtests.bench_chat import TOPICS, platform
from tests.support.models import bundled_model_path

TEMPLATE = "<start_of_turn>user\n{}<end_of_turn>\n<start_of_turn>model\n"


async def level(engine: BatchedEngine, n: int, max_tokens: int) -> float:
    """Aggregate tok/s of n streams started together (wall time of the slowest)."""

    async def one(i: int) -> int:
        prompt = engine.tokenize(
            TEMPLATE.format(f"Write a story about {TOPICS[i % len(TOPICS)]} (#{i}).")
        )
        tokens = 0
        params = SamplingParams(temperature=0.7, max_tokens=max_tokens)
        async for item in engine.generate(prompt, params):
            if isinstance(item, GenerationChunk):
                tokens += len(item.token_ids)
        return tokens

    t0 = time.perf_counter()
    counts = await asyncio.gather(*(one(i) for i in range(n)))
    return sum(counts) / (time.perf_counter() - t0)


def measure(streams: list[int], runs: int, max_tokens: int) -> dict[int, float]:
    # The engine a ChatGGUF replica builds, from the same settings (slots, threads, flash-attn).
    config = EngineConfig.from_settings(load_settings().chat, str(bundled_model_path()))
    model = load_model("bench", config)
    try:
        asyncio.run(level(model.engine, 2, 8))  # warm-up
        return {
            n: statistics.median(
                asyncio.run(level(model.engine, n, max_tokens)) for _ in range(runs)
            )
            for n in streams
        }
    finally:
        model.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--runs", type=int, default=3, help="median over this many per level")
    parser.add_argument("--rounds", type=int, default=2, help="alone/beside pairs")
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()
    cols = " | ".join(f"{n} streams" for n in args.streams)
    print(f"| round | engine | {cols} |")
    print("| --- | --- |" + " --- |" * len(args.streams))
    for r in range(1, args.rounds + 1):
        for label in ("alone", "beside an idle platform"):
            if label == "alone":
                res = measure(args.streams, args.runs, args.max_tokens)
            else:
                with platform({}):
                    time.sleep(5)  # let start-up work settle
                    res = measure(args.streams, args.runs, args.max_tokens)
            vals = " | ".join(f"{res[n]:.1f}" for n in args.streams)
            print(f"| {r} | {label} | {vals} |", flush=True)


if __name__ == "__main__":
    main()
