"""The in-process references of the chat benchmarks: llama-cpp-python's high-level API and
the platform's own BatchedEngine, one stream each, on the bundled model."""

from __future__ import annotations

import os
import statistics
import time

from tests.support.models import bundled_model_path


def inprocess_llama(prompt_text: str, max_tokens: int, runs: int) -> tuple[float, float]:
    """llama-cpp-python's high-level API, one stream: (decode tok/s, TTFT ms) medians."""
    from llama_cpp import Llama

    llm = Llama(
        str(bundled_model_path()),
        n_ctx=4096,
        n_threads=os.cpu_count(),
        n_threads_batch=os.cpu_count(),
        verbose=False,
    )
    rates, ttfts = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        first = last = 0.0
        n = 0
        for _chunk in llm.create_completion(
            prompt_text, max_tokens=max_tokens, temperature=0, stream=True
        ):
            now = time.perf_counter()
            first = first or now
            last = now
            n += 1
        rates.append((n - 1) / (last - first))
        ttfts.append((first - t0) * 1000)
    del llm
    return statistics.median(rates), statistics.median(ttfts)


async def inprocess_engine(prompt: list[int], max_tokens: int, runs: int) -> tuple[float, float]:
    """The platform's own engine called in-process: (decode tok/s, TTFT ms) medians."""
    from lmwebui.inference.engine import (
        BatchedEngine,
        EngineConfig,
        GenerationChunk,
        SamplingParams,
    )

    # the default slots, context and flash attention of a replica; all cores for the lone
    # stream, like the llama-cpp-python reference (a replica's default is half of them)
    engine = BatchedEngine(
        EngineConfig(model_path=str(bundled_model_path()), n_threads_single=os.cpu_count())
    )
    rates, ttfts = [], []
    try:
        for _ in range(runs):
            t0 = time.perf_counter()
            first = last = 0.0
            n = 0
            async for item in engine.generate(
                prompt, SamplingParams(temperature=0, max_tokens=max_tokens)
            ):
                if isinstance(item, GenerationChunk):
                    now = time.perf_counter()
                    first = first or now
                    last = now
                    n += 1
            rates.append((n - 1) / (last - first))
            ttfts.append((first - t0) * 1000)
    finally:
        engine.close()
    return statistics.median(rates), statistics.median(ttfts)
