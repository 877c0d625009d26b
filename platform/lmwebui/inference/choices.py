"""Several sequences of one request decoded side by side in the batched engine (OpenAI's
``n``, and /v1/completions' list of prompts), streamed as one chunk stream.

Each sequence is a choice index; chunks come in the order the engine produces them. The
finish chunk of the last sequence to end carries the request's usage (prompt tokens counted
once per distinct prompt), which is where every consumer reads it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import TypeVar

from lmwebui.chat.chunks import StreamChunks
from lmwebui.chat.logprobs import ChoiceLogprobs, TokenLogprob, TopLogprob
from lmwebui.chat.protocol import ChatCompletionChunk, Usage
from lmwebui.inference.engine import (
    BatchedEngine,
    GenerationChunk,
    GenerationResult,
    SamplingParams,
    TokenChoice,
)
from lmwebui.inference.engine import TokenLogprob as EngineLogprob

T = TypeVar("T")
_DONE = object()


@dataclass(frozen=True)
class Sequence:
    index: int  # the choice index
    prompt_index: int  # which prompt (usage counts each prompt once)
    tokens: list[int]
    params: SamplingParams
    echo: str = ""  # text sent as the choice's first content (/v1/completions echo)


def _top(t: TokenChoice) -> TopLogprob:
    return TopLogprob(
        token=t.piece.decode("utf-8", errors="replace"), logprob=t.logprob, bytes=list(t.piece)
    )


def chat_logprobs(lp: EngineLogprob | None) -> ChoiceLogprobs | None:
    """The engine's log probabilities of one token in OpenAI's chat shape."""
    if lp is None:
        return None
    chosen = _top(lp.chosen)
    entry = TokenLogprob(**chosen.model_dump(), top_logprobs=[_top(t) for t in lp.top])
    return ChoiceLogprobs(content=[entry])


def nth_params(params: SamplingParams, i: int) -> SamplingParams:
    """Choice i of n: a seeded request gives each choice its own seed (seed + i)."""
    return params if params.seed is None or i == 0 else replace(params, seed=params.seed + i)


async def merged(streams: list[AsyncIterator[T]]) -> AsyncIterator[tuple[int, T]]:
    """(stream index, item) from every stream as items arrive; closing this closes them."""
    if len(streams) == 1:
        async for item in streams[0]:
            yield 0, item
        return
    queue: asyncio.Queue[tuple[int, object]] = asyncio.Queue()

    async def pump(i: int, stream: AsyncIterator[T]) -> None:
        try:
            async for item in stream:
                await queue.put((i, item))
        except Exception as exc:
            await queue.put((i, exc))
        await queue.put((i, _DONE))

    tasks = [asyncio.create_task(pump(i, s)) for i, s in enumerate(streams)]
    try:
        left = len(streams)
        while left:
            i, got = await queue.get()
            if got is _DONE:
                left -= 1
            elif isinstance(got, Exception):
                raise got
            else:
                yield i, got  # type: ignore[misc]
    finally:
        for task in tasks:
            task.cancel()  # a cancelled generate() leaves the batch before the next step
        await asyncio.gather(*tasks, return_exceptions=True)


async def run_sequences(
    engine: BatchedEngine, seqs: list[Sequence], chunk: StreamChunks
) -> AsyncIterator[ChatCompletionChunk | GenerationResult]:
    """The chunks of every sequence; each GenerationResult is also yielded (for metrics)
    before its finish chunk."""
    for seq in seqs:
        yield chunk("", role="assistant", index=seq.index)
        if seq.echo:
            yield chunk(seq.echo, index=seq.index)
    usage, counted, left = Usage(), set(), len(seqs)
    streams: list[AsyncIterator[GenerationChunk | GenerationResult]] = [
        engine.generate(seq.tokens, seq.params) for seq in seqs
    ]
    async for i, item in merged(streams):
        seq = seqs[i]
        if isinstance(item, GenerationChunk):
            if item.text or item.logprob is not None:
                lp = chat_logprobs(item.logprob)
                yield chunk(item.text, index=seq.index, logprobs=lp)
        elif isinstance(item, GenerationResult):
            yield item
            left -= 1
            if seq.prompt_index not in counted:
                counted.add(seq.prompt_index)
                usage.prompt_tokens += item.prompt_tokens
                cached = (usage.prompt_tokens_details or {}).get("cached_tokens", 0)
                usage.prompt_tokens_details = {"cached_tokens": cached + item.cached_tokens}
            usage.completion_tokens += item.completion_tokens
            usage.total_tokens = usage.prompt_tokens + usage.completion_tokens
            last = usage if left == 0 else None
            yield chunk(None, finish=item.finish_reason, usage=last, index=seq.index)
