"""Request / slot / sequence state shared by the engine front-end and the scheduler thread."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass

from .datatypes import GenerationChunk, GenerationResult, SamplingParams
from .native import Sampler
from .text import TextAssembler

Item = GenerationChunk | GenerationResult | BaseException
"""What the scheduler thread posts to a request's asyncio queue."""

_ids = itertools.count(1)


class Request:
    """One ``generate`` call. Created on the event loop, then owned by the scheduler thread."""

    __slots__ = (
        "cancelled",
        "id",
        "loop",
        "params",
        "prompt",
        "queue",
        "t_admit",
        "t_first",
        "t_submit",
    )

    def __init__(
        self,
        prompt: list[int],
        params: SamplingParams,
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[list[Item]],
    ) -> None:
        self.id = next(_ids)
        self.prompt = prompt
        self.params = params
        self.loop = loop
        self.queue = queue
        # Written by the event-loop side (under the scheduler lock), read by the thread.
        self.cancelled = False
        self.t_submit = time.perf_counter()
        self.t_admit = 0.0  # set by the scheduler thread
        self.t_first = 0.0


class Slot:
    """A KV stream (llama.cpp sequence id) and the tokens whose KV it currently holds.

    ``tokens`` survives the request that produced it, so a later request sharing a prefix
    (e.g. the next chat turn) can reuse the KV instead of re-evaluating it.
    """

    __slots__ = ("active", "last_used", "seq_id", "tokens")

    def __init__(self, seq_id: int) -> None:
        self.seq_id = seq_id
        self.tokens: list[int] = []  # KV content: positions 0..len-1
        self.last_used = 0
        self.active: ActiveSeq | None = None


class ActiveSeq:
    """A request that is bound to a slot and being prefilled / decoded."""

    __slots__ = (
        "cached",
        "n_generated",
        "pending",
        "req",
        "sampler",
        "slot",
        "text",
    )

    def __init__(self, req: Request, slot: Slot, sampler: Sampler, cached: int) -> None:
        self.req = req
        self.slot = slot
        self.sampler = sampler
        self.cached = cached
        self.pending: int | None = None  # sampled token that still has to be fed
        self.n_generated = 0
        self.text = TextAssembler(req.params.stop)

    @property
    def prompt_left(self) -> int:
        """Prompt tokens not yet in the KV cache (0 once decoding)."""
        return len(self.req.prompt) - len(self.slot.tokens) if self.pending is None else 0


@dataclass
class Part:
    """Tokens of one stream inside one ``llama_decode`` call (``seq`` None => padding)."""

    seq: ActiveSeq | None
    stream: int
    tokens: list[int]
    pos0: int
    want_out: bool
    row: int = -1


@dataclass
class Counters:
    requests_submitted: int = 0
    requests_finished: int = 0
    requests_cancelled: int = 0
    requests_failed: int = 0
    tokens_generated: int = 0
    prompt_tokens_evaluated: int = 0
    prompt_tokens_cached: int = 0
    decode_calls: int = 0
    padding_rows: int = 0
    decode_seconds: float = 0.0
    first_tokens: int = 0
    ttft_seconds: float = 0.0  # summed over first_tokens requests (submit -> first token)


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    # Compare in blocks first (slices compare in C), then finish element-wise.
    step = 256
    while i + step <= n and a[i : i + step] == b[i : i + step]:
        i += step
    while i < n and a[i] == b[i]:
        i += 1
    return i
