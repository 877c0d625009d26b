"""What grammar-constrained sampling (structured output) costs the GGUF engine.

The engine a ChatGGUF replica builds (same settings; slots raised to the largest stream
count) decodes N streams started together on the same prompts, once free and once
constrained by the JSON schema {"story": string of >= 200 characters} (compiled as /v1
compiles a response_format: inference/grammar.py), --max-tokens each, temperature 0.7. The
story is a long free string, so the grammar checks every token of a long answer (a free
answer may still end early at end-of-turn: tokens per run are printed). Free and
constrained runs alternate, --rounds times (a shared machine's speed drifts); the medians
are printed.

    .venv/bin/python loadtests/bench_grammar.py --streams 1 4 16 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lmwebui.inference.engine import BatchedEngine, EngineConfig, GenerationChunk, SamplingParams
from lmwebui.inference.grammar import schema_grammar
from lmwebui.inference.loaded import load_model
from lmwebui.settings import load_settings
from loadtests.bench_chat import TOPICS
from tests.support.models import bundled_model_path

TEMPLATE = "<start_of_turn>user\n{}<end_of_turn>\n<start_of_turn>model\n"
SCHEMA = {
    "type": "object",
    "properties": {"story": {"type": "string", "minLength": 200}},
    "required": ["story"],
    "additionalProperties": False,
}


async def level(engine: BatchedEngine, n: int, params: SamplingParams) -> tuple[float, int]:
    """(aggregate tok/s of n streams started together, tokens generated)."""

    async def one(i: int) -> int:
        text = f"Write a story about {TOPICS[i % len(TOPICS)]} (#{i}) as JSON."
        tokens = 0
        async for item in engine.generate(engine.tokenize(TEMPLATE.format(text)), params):
            if isinstance(item, GenerationChunk):
                tokens += len(item.token_ids)
        return tokens

    t0 = time.perf_counter()
    counts = await asyncio.gather(*(one(i) for i in range(n)))
    return sum(counts) / (time.perf_counter() - t0), sum(counts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--max-tokens", type=int, default=128)
    args = ap.parse_args()
    chat = load_settings().chat
    config = EngineConfig.from_settings(chat, str(bundled_model_path()))
    config = dataclasses.replace(config, n_slots=max(max(args.streams), config.n_slots))
    model = load_model("bench", config)
    free = SamplingParams(temperature=0.7, max_tokens=args.max_tokens)
    constrained = dataclasses.replace(free, grammar=schema_grammar(SCHEMA, "bench"))
    print(f"n_slots={config.n_slots} threads={config.resolved_threads()}")
    try:
        asyncio.run(level(model.engine, 2, dataclasses.replace(constrained, max_tokens=8)))
        for n in args.streams:
            rates: dict[str, list[float]] = {"free": [], "json_schema": []}
            tokens: dict[str, int] = {}
            for _ in range(args.rounds):
                for name, params in (("free", free), ("json_schema", constrained)):
                    rate, tokens[name] = asyncio.run(level(model.engine, n, params))
                    rates[name].append(rate)
            med = {k: statistics.median(v) for k, v in rates.items()}
            print(
                f"streams={n:3d}  free {med['free']:7.1f} tok/s  json_schema "
                f"{med['json_schema']:7.1f} tok/s  ratio {med['json_schema'] / med['free']:.2f}"
                f"  (tokens/run {tokens['free']} / {tokens['json_schema']}; "
                f"runs free {[round(r) for r in rates['free']]} "
                f"json {[round(r) for r in rates['json_schema']]})",
                flush=True,
            )
    finally:
        model.close()


if __name__ == "__main__":
    main()
