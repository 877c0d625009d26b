"""The scheduler thread: continuous batching over one llama_context.

Layout: one KV *stream* per slot (``kv_unified=False``); the llama.cpp sequence id of a slot
is its index. Each loop iteration (a "step"):

1. drains cancellations (a cancelled sequence leaves the batch before the next decode),
2. admits queued requests (FIFO) onto free slots, choosing the slot whose cached tokens share
   the longest prefix with the prompt (ties / no overlap: least recently used) and trimming
   the rest of that slot's KV with ``llama_memory_seq_rm``,
3. builds one batch: 1 token per decoding sequence + up to ``prefill_chunk`` prompt tokens per
   prefilling sequence (``n_batch`` in total), decodes it and samples every sequence that has
   logits with its own native sampler chain.

With separate streams llama.cpp splits a batch into micro-batches of *consecutive* sequence
ids with equal token counts, so a batch over seqs {0, 2} costs two full forward passes.
Gaps are therefore filled with one throw-away padding token (appended to the idle stream and
removed right after the decode; the cached prefix there stays intact).

Deterministic mode (``EngineConfig.deterministic``): batch-invariant numerics; what it
changes in ggml and why is in docs/architecture.md ("Deterministic mode").
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import deque

import numpy as np

from .datatypes import (
    FINISH_CANCELLED,
    FINISH_LENGTH,
    FINISH_STOP,
    DecodeError,
    EngineClosedError,
    EngineConfig,
    GenerationChunk,
    GenerationResult,
    TokenLogprob,
)
from .logprobs import row_logprob
from .native import Batch, NativeContext, NativeModel, Sampler
from .state import ActiveSeq, Counters, Item, Part, Request, Slot, common_prefix

log = logging.getLogger(__name__)

DETERMINISTIC_MAX_TOKENS_PER_SEQ = 63  # ggml CPU flash-attn switches kernels at 64 rows


def prepare_deterministic_env() -> None:
    """Must run before the process's first ggml matmul to have any effect."""
    os.environ.setdefault("GGML_CPU_TILED_MM", "0")


class Scheduler:
    def __init__(self, model: NativeModel, config: EngineConfig) -> None:
        self.model = model
        self.cfg = config
        self.det = config.deterministic
        self.n_ctx = config.n_ctx_per_slot
        # Deterministic mode needs a neighbour stream to pad a lone row; with one slot we add
        # a spare stream that never holds a request.
        self.n_streams = config.n_slots + (1 if self.det and config.n_slots == 1 else 0)
        self.chunk = config.prefill_chunk
        if self.det:
            self.chunk = min(self.chunk, DETERMINISTIC_MAX_TOKENS_PER_SEQ)
        capacity = config.n_batch + self.n_streams + 1
        self.ctx = NativeContext(model, config, self.n_streams, capacity)
        if self.ctx.n_ctx_seq < self.n_ctx:
            self.ctx.close()
            raise RuntimeError(f"context has {self.ctx.n_ctx_seq} cells/seq < {self.n_ctx}")
        self.batch = Batch(capacity, self.n_streams)
        self.slots = [Slot(i) for i in range(config.n_slots)]
        self.counters = Counters()
        self._tick = 0
        self._cv = threading.Condition()
        self._inbox: deque[Request] = deque()
        self._cancels: list[Request] = []
        self._waiting: deque[Request] = deque()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._n_active = 0

    # ---------------------------------------------------------------- event-loop side
    def submit(self, req: Request) -> None:
        with self._cv:
            if self._closing:
                raise EngineClosedError("engine is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="gguf-engine", daemon=True)
                self._thread.start()
            self._inbox.append(req)
            self.counters.requests_submitted += 1
            self._cv.notify()

    def cancel(self, req: Request) -> None:
        with self._cv:
            if req.cancelled:
                return
            req.cancelled = True
            self._cancels.append(req)
            self._cv.notify()

    def queued(self) -> int:
        return len(self._inbox) + len(self._waiting)

    def active(self) -> int:
        return self._n_active

    def close(self) -> None:
        with self._cv:
            self._closing = True
            self._cv.notify()
            thread = self._thread
        if thread is not None:
            thread.join()
        self.ctx.close()

    # ---------------------------------------------------------------- thread side
    def _run(self) -> None:
        while True:
            with self._cv:
                # _waiting counts too: when every active sequence finishes in the same step
                # while others wait for a slot, nothing else would wake this thread.
                while not (
                    self._closing or self._inbox or self._cancels or self._n_active or self._waiting
                ):
                    self._cv.wait()
                if self._closing:
                    break
                self._waiting.extend(self._inbox)
                self._inbox.clear()
                cancels, self._cancels = self._cancels, []
            out: dict[Request, list[Item]] = {}
            try:
                for req in cancels:
                    self._drop(req)
                self._admit()
                if self._n_active:
                    self._step(out)
            except Exception as exc:  # a bug must not hang every client
                log.exception("engine step failed")
                for slot in self.slots:
                    if slot.active is not None:  # KV state unknown: forget it
                        self.ctx.seq_rm(slot.seq_id, -1, -1)
                        slot.tokens.clear()
                        self._fail(slot.active, exc, out)
            self._post(out)
        self._shutdown()

    def _shutdown(self) -> None:
        out: dict[Request, list[Item]] = {}
        with self._cv:
            self._waiting.extend(self._inbox)
            self._inbox.clear()
        for req in self._waiting:
            if not req.cancelled:
                out[req] = [GenerationResult(FINISH_CANCELLED, len(req.prompt), 0, 0)]
        self._waiting.clear()
        for slot in self.slots:
            if slot.active is not None:
                self._finish(slot.active, FINISH_CANCELLED, out, flush=False)
        self._post(out)

    def _post(self, out: dict[Request, list[Item]]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Request, list[Item]]]] = {}
        for req, items in out.items():
            if items and not req.cancelled:
                by_loop.setdefault(req.loop, []).append((req, items))
        for loop, pairs in by_loop.items():
            try:
                loop.call_soon_threadsafe(_deliver, pairs)
            except RuntimeError:  # event loop closed: nobody is listening any more
                for req, _ in pairs:
                    req.cancelled = True
                    self._drop(req)

    def _drop(self, req: Request) -> None:
        """Remove a cancelled request from the queue or the running batch."""
        try:
            self._waiting.remove(req)
            self.counters.requests_cancelled += 1
            return
        except ValueError:
            pass
        for slot in self.slots:
            if slot.active is not None and slot.active.req is req:
                self._release(slot.active)
                self.counters.requests_cancelled += 1
                return

    def _admit(self) -> None:
        while self._waiting:
            free = [s for s in self.slots if s.active is None]
            if not free:
                return
            req = self._waiting.popleft()
            if req.cancelled:
                continue
            best, common = self._pick_slot(free, req.prompt)
            prompt = req.prompt
            # Keep >= 1 prompt token to evaluate so that there are logits to sample from.
            n_common = min(common, len(prompt) - 1)
            if n_common < len(best.tokens):
                if not self.ctx.seq_rm(best.seq_id, n_common, -1):
                    self.ctx.seq_rm(best.seq_id, -1, -1)  # e.g. recurrent state: start over
                    n_common = 0
                del best.tokens[n_common:]
            sampler = Sampler(self.model, req.params, prompt)
            req.t_admit = time.perf_counter()
            best.active = ActiveSeq(req, best, sampler, n_common)
            self._touch(best)
            self._n_active += 1
            self.counters.prompt_tokens_cached += n_common

    @staticmethod
    def _pick_slot(free: list[Slot], prompt: list[int]) -> tuple[Slot, int]:
        """Longest common prefix wins (ties: least recently used).

        A near-zero overlap - only the BOS token, or under 10 % of the prompt (llama.cpp
        server's default similarity threshold) - counts as none: the request then takes the
        least recently used slot (never-used slots first) instead of evicting a cached
        conversation for a trivial gain.
        """
        lru = min(free, key=lambda s: s.last_used)
        best, best_key = lru, (0, 0)
        for slot in free:
            common = common_prefix(slot.tokens, prompt)
            if common <= 1 or common * 10 < len(prompt):
                continue
            key = (common, -slot.last_used)
            if key > best_key:
                best, best_key = slot, key
        return best, common_prefix(best.tokens, prompt)

    # ---------------------------------------------------------------- one step
    def _step(self, out: dict[Request, list[Item]]) -> None:
        # A request cancelled while the previous step ran is already out of this one.
        active = [
            s.active for s in self.slots if s.active is not None and not s.active.req.cancelled
        ]
        decoders = [q for q in active if q.pending is not None]
        prefill = sorted((q for q in active if q.pending is None), key=lambda q: q.req.id)
        parts = [
            Part(q, q.slot.seq_id, [q.pending], len(q.slot.tokens), True)
            for q in decoders
            if q.pending is not None
        ]
        budget = max(self.cfg.n_batch - len(parts), 1)
        chunks: list[Part] = []
        for q in prefill:
            take = min(self.chunk, q.prompt_left, budget)
            if take <= 0:
                break
            done = len(q.slot.tokens)
            last = done + take == len(q.req.prompt)
            chunks.append(Part(q, q.slot.seq_id, q.req.prompt[done : done + take], done, last))
            budget -= take
        # Deterministic mode: one call per prefill chunk, so that a chunk never shares a
        # micro-batch in a way that changes its kernels (see module docstring).
        calls = ([parts] if parts else []) + [[c] for c in chunks] if self.det else [parts + chunks]
        for call in calls:
            if call:
                self._decode(call, out)

    def _decode(self, parts: list[Part], out: dict[Request, list[Item]]) -> None:
        parts = self._pad(parts)
        parts.sort(key=lambda p: p.stream)
        batch = self.batch
        batch.clear()
        for p in parts:
            p.row = batch.add(p.stream, p.tokens, p.pos0, p.want_out)
        if self.det and sum(p.want_out for p in parts) == 1:
            # A 2nd output row keeps the LM head matmul on the multi-row kernel.
            batch.logits[int(np.flatnonzero(batch.logits[: batch.n] == 0)[0])] = 1
        batch.finalize()
        t0 = time.perf_counter()
        rc = self.ctx.decode(batch)
        c = self.counters
        c.decode_seconds += time.perf_counter() - t0
        c.decode_calls += 1
        for p in parts:
            if p.seq is None:
                self.ctx.seq_rm(p.stream, p.pos0, -1)
                c.padding_rows += 1
        if rc != 0:
            err = DecodeError(f"llama_decode failed with code {rc}")
            for p in parts:
                if p.seq is not None and p.seq.slot.active is p.seq:
                    self.ctx.seq_rm(p.stream, -1, -1)
                    p.seq.slot.tokens.clear()
                    self._fail(p.seq, err, out)
            return
        for p in parts:
            q = p.seq
            if q is None:
                continue
            q.slot.tokens.extend(p.tokens)
            if q.pending is None:
                c.prompt_tokens_evaluated += len(p.tokens)
            q.pending = None
            if p.want_out:
                tok, k = q.sampler.sample(self.ctx, p.row), q.req.params.logprobs
                lp = None if k is None else row_logprob(self.ctx, self.model, p.row, tok, k)
                self._on_token(q, tok, out, lp)

    def _pad(self, parts: list[Part]) -> list[Part]:
        used = {p.stream for p in parts}
        lo, hi = min(used), max(used)
        pads = [self._pad_part(s) for s in range(lo, hi + 1) if s not in used]
        if self.det and sum(len(p.tokens) for p in parts) + len(pads) < 2:
            pads.append(self._pad_part(hi + 1 if hi + 1 < self.n_streams else lo - 1))
        return parts + pads

    def _pad_part(self, stream: int) -> Part:
        if stream < len(self.slots):
            slot = self.slots[stream]
            if len(slot.tokens) >= self.n_ctx:  # full stream: give up its last cached token
                self.ctx.seq_rm(stream, self.n_ctx - 1, -1)
                del slot.tokens[self.n_ctx - 1 :]
            pos = len(slot.tokens)
        else:
            pos = 0  # spare stream, always empty
        return Part(None, stream, [self.model.filler_token], pos, False)

    # ---------------------------------------------------------------- sampling results
    def _on_token(
        self, q: ActiveSeq, tok: int, out: dict[Request, list[Item]], lp: TokenLogprob | None
    ) -> None:
        items = out.setdefault(q.req, [])
        if q.n_generated == 0 and not q.req.t_first:
            q.req.t_first = time.perf_counter()
            self.counters.first_tokens += 1
            self.counters.ttft_seconds += q.req.t_first - q.req.t_submit
        if self.model.is_eog(tok):
            self._finish(q, FINISH_STOP, out)
            return
        q.n_generated += 1
        self.counters.tokens_generated += 1
        text = q.text.push(self.model.piece(tok))
        if q.text.stopped:
            items.append(GenerationChunk(text, [tok], lp))
            self._finish(q, FINISH_STOP, out, flush=False)
        elif q.n_generated >= q.req.params.max_tokens or len(q.slot.tokens) >= self.n_ctx:
            items.append(GenerationChunk(text + q.text.flush(), [tok], lp))
            self._finish(q, FINISH_LENGTH, out, flush=False)
        else:
            items.append(GenerationChunk(text, [tok], lp))
            q.pending = tok

    def _finish(
        self, q: ActiveSeq, reason: str, out: dict[Request, list[Item]], *, flush: bool = True
    ) -> None:
        items = out.setdefault(q.req, [])
        if flush:
            tail = q.text.flush()
            if tail:
                items.append(GenerationChunk(tail, []))
        req = q.req
        items.append(
            GenerationResult(
                reason,
                len(req.prompt),
                q.n_generated,
                q.cached,
                queue_seconds=max(req.t_admit - req.t_submit, 0.0),
                prefill_seconds=max(req.t_first - req.t_admit, 0.0) if req.t_first else 0.0,
            )
        )
        self.counters.requests_finished += 1
        self._release(q)

    def _fail(self, q: ActiveSeq, exc: BaseException, out: dict[Request, list[Item]]) -> None:
        out.setdefault(q.req, []).append(exc)
        self.counters.requests_failed += 1
        self._release(q)

    def _release(self, q: ActiveSeq) -> None:
        slot = q.slot
        if slot.active is q:
            slot.active = None
            self._n_active -= 1
            self._touch(slot)
        q.sampler.close()

    def _touch(self, slot: Slot) -> None:
        self._tick += 1
        slot.last_used = self._tick


def _deliver(pairs: list[tuple[Request, list[Item]]]) -> None:
    """Runs on the request's event loop."""
    for req, items in pairs:
        if not req.cancelled:
            req.queue.put_nowait(items)
