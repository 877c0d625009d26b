"""Tiny closed-loop HTTP latency benchmark (aiohttp client): p50/p99 at a concurrency."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

import aiohttp

from loadtests.stats import percentile


@dataclass
class Result:
    n: int
    concurrency: int
    p50_ms: float
    p99_ms: float
    rps: float
    errors: int

    def row(self, label: str) -> str:
        return (
            f"| {label} | {self.concurrency} | {self.n} | {self.p50_ms:.2f} | {self.p99_ms:.2f} "
            f"| {self.rps:.0f} | {self.errors} |"
        )


async def run(url: str, n: int, concurrency: int, headers: dict[str, str]) -> Result:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(n))
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        # warm-up
        for _ in range(20):
            async with session.get(url) as r:
                await r.read()

        async def worker() -> None:
            nonlocal errors
            for _ in counter:
                t0 = time.perf_counter()
                async with session.get(url) as r:
                    await r.read()
                    if r.status != 200:
                        errors += 1
                latencies.append((time.perf_counter() - t0) * 1000)

        t_start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t_start
    return Result(
        n=n,
        concurrency=concurrency,
        p50_ms=statistics.median(latencies),
        p99_ms=percentile(latencies, 0.99),
        rps=n / elapsed,
        errors=errors,
    )
