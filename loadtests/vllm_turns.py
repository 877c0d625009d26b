"""The client side of bench_vllm.py: one timed turn over SSE or the platform's WebSocket, and
n concurrent turns (a level)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from loadtests.sse import timed_stream
from loadtests.stats import percentile
from loadtests.wsclient import chat_turn

PROMPT = "Write a long, detailed story about a lighthouse keeper and a storm."
TOPICS = ["volcanoes", "honey bees", "the Sahara", "chess", "bread", "coral reefs", "Rome"]


@dataclass
class Turn:
    ttft_ms: float
    tokens: int
    decode_tok_s: float
    cpu: Counter[str] = field(default_factory=Counter)  # CPU seconds by process (paired)


def _turn(ttft_s: float, tokens: int, decode_s: float) -> Turn:
    rate = (tokens - 1) / decode_s if tokens > 1 and decode_s > 0 else 0.0
    return Turn(ttft_s * 1000, tokens, rate)


async def sse_turn(
    client: httpx.AsyncClient, path: str, model: str, message: str, max_tokens: int, temp: float
) -> Turn:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": message}],
        "max_tokens": max_tokens,
        "temperature": temp,  # top_p unset, as the platform leaves it for vLLM
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    t = await timed_stream(client, path, body)
    return _turn(t.ttft_s, t.completion_tokens, t.decode_s)


async def ws_turn(url: str, headers: dict[str, str], data: dict[str, Any]) -> Turn:
    turn = await chat_turn(url, headers, data)
    if not turn.ok:
        raise RuntimeError(f"WS turn failed: {turn.error}")
    return _turn(turn.ttft_s, turn.completion_tokens, turn.decode_s)


async def level_sse(
    base: str,
    model: str,
    n: int,
    max_tokens: int,
    path: str = "/v1/chat/completions",
    headers: dict[str, str] | None = None,
) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=600) as client:
        t0 = time.perf_counter()
        turns = await asyncio.gather(
            *(sse_turn(client, path, model, _story(i), max_tokens, 0.7) for i in range(n))
        )
    return _level(turns, time.perf_counter() - t0)


async def level_ws(
    url: str, h: dict[str, str], extra: dict[str, Any], n: int, max_tokens: int
) -> dict[str, float]:
    t0 = time.perf_counter()
    turns = await asyncio.gather(
        *(
            ws_turn(
                url,
                h,
                {"message": _story(i), "max_tokens": max_tokens, "temperature": 0.7, **extra},
            )
            for i in range(n)
        )
    )
    return _level(list(turns), time.perf_counter() - t0)


def _story(i: int) -> str:
    return f"Write a story about {TOPICS[i % len(TOPICS)]} (#{i})."


def _level(turns: list[Turn], wall: float) -> dict[str, float]:
    ttfts = [t.ttft_ms for t in turns]
    return {
        "tok_s": sum(t.tokens for t in turns) / wall,
        "ttft_p50": statistics.median(ttfts),
        "ttft_p99": percentile(ttfts, 0.99),
    }
