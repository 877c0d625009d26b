"""One streamed /v1/chat/completions turn (SSE), timed like the WebSocket client times a turn."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class SseTurn:
    ttft_s: float  # request sent → first content chunk
    completion_tokens: int  # from the usage chunk
    decode_s: float  # first → last content chunk


async def timed_stream(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> SseTurn:
    """POST one streamed chat completion and time it (usage from the final chunk)."""
    t0 = time.perf_counter()
    first = last = 0.0
    completion = 0
    async with client.stream("POST", path, json=body) as r:
        r.raise_for_status()
        async for line in r.aiter_lines():
            if not line.startswith("data: {"):
                continue
            chunk = json.loads(line[6:])
            if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                last = time.perf_counter()
                first = first or last
            if chunk.get("usage"):
                completion = chunk["usage"]["completion_tokens"]
    return SseTurn(first - t0, completion, last - first)


async def sse_turns(
    base_url: str, headers: dict[str, str], message: str, max_tokens: int, runs: int
) -> tuple[list[SseTurn], list[float]]:
    """The same turn over /v1/chat/completions (SSE) on one keep-alive connection, as an SDK
    client sends it, and an authenticated GET /api/auth/me on that connection after each
    (what every HTTP request pays before its handler: proxy, auth query)."""
    body = {
        "model": "gemma3-270m-q4_k_m.gguf",
        "messages": [{"role": "user", "content": message}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},  # usage in a final chunk, as OpenAI sends it
    }
    streams, requests = [], []
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120) as client:
        for i in range(runs + 1):  # the first one warms the connection
            turn = await timed_stream(client, "/v1/chat/completions", body)
            t1 = time.perf_counter()
            (await client.get("/api/auth/me")).raise_for_status()
            if i:
                streams.append(turn)
                requests.append((time.perf_counter() - t1) * 1000)
    return streams, requests
