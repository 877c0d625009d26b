"""What crossing Ray costs per streamed chunk: plain JSON-shaped dicts vs pydantic objects.

    .venv/bin/python loadtests/bench_ray_payload.py --chunks 2000 --runs 5

Two measurements, both sides in the same invocation:
1. serialisation alone (what the replica and the ingress do per chunk): dict convention =
   model_dump on the replica + pickle + unpickle + model_validate on the ingress; object
   convention = pickle + unpickle of the pydantic object;
2. a real Ray actor streaming the same chunks one item per chunk (the worst case: the
   ChatGGUF deployment coalesces a backlog into lists) to this process.
Prints medians over --runs in microseconds per chunk.
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "platform"))

from lmwebui.chat.protocol import ChatCompletionChunk, ChunkChoice, ChunkDelta


def chunk(i: int) -> ChatCompletionChunk:
    return ChatCompletionChunk(
        id="chatcmpl-0123456789abcdef01234567",
        created=1_700_000_000,
        model="gemma3-270m-q4_k_m.gguf",
        choices=[ChunkChoice(delta=ChunkDelta(content=f" word{i}"))],
    )


def serialisation(n: int) -> tuple[float, float]:
    chunks = [chunk(i) for i in range(n)]
    t0 = time.perf_counter()
    for c in chunks:
        data = pickle.dumps(c.model_dump(mode="json", exclude_none=True))
        ChatCompletionChunk.model_validate(pickle.loads(data))
    as_dict = (time.perf_counter() - t0) / n * 1e6
    t0 = time.perf_counter()
    for c in chunks:
        pickle.loads(pickle.dumps(c))
    as_object = (time.perf_counter() - t0) / n * 1e6
    return as_dict, as_object


def over_ray(n: int, runs: int) -> tuple[list[float], list[float]]:
    import ray

    @ray.remote(num_cpus=0)
    class Streamer:
        def dicts(self, n: int) -> Any:
            for i in range(n):
                yield chunk(i).model_dump(mode="json", exclude_none=True)

        def objects(self, n: int) -> Any:
            for i in range(n):
                yield chunk(i)

    actor = Streamer.remote()  # type: ignore[attr-defined]
    dict_runs, object_runs = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        for ref in actor.dicts.options(num_returns="streaming").remote(n):
            ChatCompletionChunk.model_validate(ray.get(ref))
        dict_runs.append((time.perf_counter() - t0) / n * 1e6)
        t0 = time.perf_counter()
        for ref in actor.objects.options(num_returns="streaming").remote(n):
            ray.get(ref)
        object_runs.append((time.perf_counter() - t0) / n * 1e6)
    return dict_runs, object_runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ser = [serialisation(args.chunks) for _ in range(args.runs)]
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        ray_dicts, ray_objects = over_ray(args.chunks, args.runs)
    finally:
        ray.shutdown()
    med = statistics.median
    print("| per chunk (µs, median of runs) | dict convention | pydantic objects | ratio |")
    print("| --- | --- | --- | --- |")
    sd, so = med(s[0] for s in ser), med(s[1] for s in ser)
    print(f"| serialisation only | {sd:.1f} | {so:.1f} | {sd / so:.2f} |")
    rd, ro = med(ray_dicts), med(ray_objects)
    print(f"| Ray actor stream, one item per chunk | {rd:.1f} | {ro:.1f} | {rd / ro:.2f} |")


if __name__ == "__main__":
    main()
