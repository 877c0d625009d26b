"""Serve proxy vs plain uvicorn for an authenticated GET, plus the shared limiter's cost.

    .venv/bin/python loadtests/bench_proxy.py --requests 1000 --runs 3

Starts, one after the other on this machine: the FastAPI app under plain uvicorn, then
`lmwebui serve` with the default Serve proxy, then `lmwebui serve` with Ray's fast path
(HAProxy + direct ingress, LMWEBUI_SERVE_FAST_PATH=1). Prints a markdown table of the
median p50/p99 over the runs.
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
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtests.httpbench import Result, run
from tests.support.live import free_port, login, start_server

ENDPOINTS = ["/health", "/api/auth/me"]


def start_uvicorn(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "LMWEBUI_DATA_DIR": str(data_dir),
        "LMWEBUI_RATE_LIMITS__SHARED": "false",
        "LMWEBUI_RATE_LIMITS__ENABLED": "false",
    }
    code = (
        "import uvicorn; from lmwebui.api import create_app; from lmwebui.settings import "
        "load_settings; uvicorn.run(create_app(load_settings()), host='127.0.0.1', "
        f"port={port}, log_level='warning')"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("uvicorn did not start")


def measure(label: str, base: str, args: argparse.Namespace, rows: list[str]) -> None:
    headers = login(base)
    for path in ENDPOINTS:
        for conc in (1, 16):
            results: list[Result] = [
                asyncio.run(run(base + path, args.requests, conc, headers))
                for _ in range(args.runs)
            ]
            med = Result(
                n=args.requests,
                concurrency=conc,
                p50_ms=statistics.median(r.p50_ms for r in results),
                p99_ms=statistics.median(r.p99_ms for r in results),
                rps=statistics.median(r.rps for r in results),
                errors=sum(r.errors for r in results),
            )
            rows.append(med.row(f"{label} `{path}`"))
            print(rows[-1], flush=True)


def limiter_overhead(n: int) -> list[str]:
    import ray

    from lmwebui.ratelimit import LocalLimiterBackend, RayLimiterBackend

    async def timed(backend: object) -> float:
        hit = backend.hit  # type: ignore[attr-defined]
        for _ in range(50):
            await hit("1000000/minute", "bench", "k")
        samples = []
        for _ in range(n):
            t0 = time.perf_counter()
            await hit("1000000/minute", "bench", "k")
            samples.append((time.perf_counter() - t0) * 1000)
        return statistics.median(samples)

    local = asyncio.run(timed(LocalLimiterBackend()))
    ray.init(include_dashboard=False, num_cpus=1, _node_ip_address="127.0.0.1")
    try:
        shared = asyncio.run(timed(RayLimiterBackend()))
    finally:
        ray.shutdown()
    return [
        f"| limiter check, in-process backend | {local:.3f} ms p50 |",
        f"| limiter check, shared Ray actor backend | {shared:.3f} ms p50 |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=["uvicorn", "serve", "fast"], action="append")
    args = parser.parse_args()
    only = set(args.only or ["uvicorn", "serve", "fast"])
    rows: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-proxy-"))
    if "uvicorn" in only:
        proc, base = start_uvicorn(tmp / "uvicorn")
        try:
            measure("uvicorn", base, args, rows)
        finally:
            proc.terminate()
            proc.wait()
    for label, env in (
        ("serve default proxy", {"LMWEBUI_SERVE_FAST_PATH": "false"}),
        ("serve fast path", {"LMWEBUI_SERVE_FAST_PATH": "true"}),
    ):
        if ("serve" if "default" in label else "fast") not in only:
            continue
        server = start_server(tmp / label.replace(" ", "-"), env=env)
        try:
            measure(label, server.url, args, rows)
        finally:
            server.stop()
    print("\n| setup | concurrency | requests | p50 ms | p99 ms | req/s | errors |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    print("\n| limiter | cost |\n| --- | --- |")
    print("\n".join(limiter_overhead(2000)))


if __name__ == "__main__":
    main()
