"""JSON-schema-constrained vs free streams over /v1/chat/completions: the platform
(``lmwebui serve``, the real Serve deployment) beside llama.cpp's server from
llama-cpp-python (``python -m llama_cpp.server``), same GGUF file, same schema, same prompts,
in one invocation.

Each level starts N streams together ("Write a story about <topic> (#i) as JSON.",
--max-tokens, temperature 0.7) and counts content chunks (one per token on both servers)
over the wall time: aggregate tok/s. The schema is bench_grammar.py's {"story": string of
>= 200 characters}, so the grammar checks every token of the answer. The platform gets it
as OpenAI's ``response_format: {"type": "json_schema", ...}``; llama-cpp-python's server
reads only its own ``{"type": "json_object", "schema": ...}`` form (it ignores
``json_schema``), so it gets that. Free and constrained runs of both servers alternate,
--rounds times; medians printed as markdown rows.

llama_cpp.server needs sse-starlette and starlette-context, which are not dependencies of
the project: install them outside the venv and name the folder.

    .venv/bin/pip install --target /tmp/llsrv --no-deps sse-starlette starlette-context
    .venv/bin/python loadtests/bench_grammar_server.py --llama-path /tmp/llsrv \\
        --streams 1 16 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtests.bench_chat import TOPICS, platform
from loadtests.bench_grammar import SCHEMA
from tests.support.live import free_port, login, wait_ready
from tests.support.models import bundled_model_path

MODEL = "gemma3-270m-q4_k_m.gguf"
MODES = ("free", "json_schema")


class Server:
    def __init__(self, name: str, url: str, headers: dict[str, str], formats: dict[str, Any]):
        self.name, self.url, self.headers, self.formats = name, url, headers, formats


@contextmanager
def llama_cpp_server(pythonpath: str, threads: int) -> Iterator[Server]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [pythonpath]))}
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_model_path())]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096"]
    cmd += ["--n_threads", str(threads), "--n_threads_batch", str(threads)]
    cmd += ["--chat_format", "gemma", "--verbose", "false"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{url}/v1/models", proc, 120, "llama_cpp.server (see --llama-path)")
        schema = {"type": "json_object", "schema": SCHEMA}
        yield Server("llama_cpp.server", url, {}, {"free": None, "json_schema": schema})
    finally:
        proc.terminate()
        proc.wait()


@contextmanager
def platform_server() -> Iterator[Server]:
    with platform({}) as live:
        schema = {"type": "json_schema", "json_schema": {"name": "story", "schema": SCHEMA}}
        formats = {"free": None, "json_schema": schema}
        yield Server("platform", live.url, login(live.url), formats)


async def one(client: httpx.AsyncClient, server: Server, mode: str, i: int, mt: int) -> str:
    body: dict[str, Any] = {
        "model": MODEL,
        "messages": [
            {"role": "user", "content": f"Write a story about {TOPICS[i % len(TOPICS)]} (#{i})"}
        ],
        "max_tokens": mt,
        "temperature": 0.7,
        "stream": True,
    }
    if server.formats[mode] is not None:
        body["response_format"] = server.formats[mode]
    pieces: list[str] = []
    url = f"{server.url}/v1/chat/completions"
    async with client.stream("POST", url, json=body, headers=server.headers) as r:
        r.raise_for_status()
        async for line in r.aiter_lines():
            if line.startswith("data: {"):
                chunk = json.loads(line[6:])
                if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                    pieces.append(chunk["choices"][0]["delta"]["content"])
    return "\x00".join(pieces)


async def level(server: Server, mode: str, n: int, mt: int) -> tuple[float, list[str]]:
    """(aggregate tok/s of n streams started together, their texts)."""
    limits = httpx.Limits(max_connections=n + 4)
    async with httpx.AsyncClient(timeout=900, limits=limits) as client:
        t0 = time.perf_counter()
        texts = await asyncio.gather(*(one(client, server, mode, i, mt) for i in range(n)))
        wall = time.perf_counter() - t0
    tokens = sum(t.count("\x00") + 1 for t in texts if t)
    return tokens / wall, [t.replace("\x00", "") for t in texts]


def measure(servers: list[Server], streams: list[int], rounds: int, mt: int) -> None:
    for s in servers:  # warm-up, and a look at what each mode returns
        for mode in MODES:
            _, texts = asyncio.run(level(s, mode, 1, 24))
            print(f"{s.name} {mode} sample: {texts[0][:70]!r}", flush=True)
    print("| server | streams | free tok/s | json_schema tok/s | json/free |")
    print("| --- | --- | --- | --- | --- |")
    for n in streams:
        rates: dict[tuple[str, str], list[float]] = {}
        for _ in range(rounds):
            for s in servers:
                for mode in MODES:
                    rate, _ = asyncio.run(level(s, mode, n, mt))
                    rates.setdefault((s.name, mode), []).append(rate)
        for s in servers:
            free, js = (statistics.median(rates[(s.name, m)]) for m in MODES)
            runs = {m: [round(r, 1) for r in rates[(s.name, m)]] for m in MODES}
            print(
                f"| {s.name} | {n} | {free:.1f} | {js:.1f} | {js / free:.2f} | {runs}", flush=True
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, nargs="+", default=[1, 16])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--llama-path", default="", help="folder with sse_starlette etc.")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}", flush=True)
    with platform_server() as ours, llama_cpp_server(args.llama_path, args.threads) as theirs:
        measure([ours, theirs], args.streams, args.rounds, args.max_tokens)
    print(f"load average at end: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
