"""``BatchedEngine``: asyncio front-end of the continuous-batching GGUF engine."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator
from types import TracebackType

from .datatypes import (
    EngineClosedError,
    EngineConfig,
    GenerationChunk,
    GenerationResult,
    PromptTooLongError,
    SamplingParams,
)
from .native import NativeModel, check_grammar
from .scheduler import Scheduler, prepare_deterministic_env
from .state import Item, Request


class BatchedEngine:
    """Continuous batching over ``n_slots`` sequences of one llama.cpp context.

    One background thread owns the context and runs the scheduler loop (started lazily by
    the first request); ``generate`` streams results into the caller's event loop. Any
    number of event loops may use one engine concurrently.
    """

    def __init__(self, config: EngineConfig) -> None:
        config.validate()
        if config.deterministic:
            prepare_deterministic_env()
        self.config = config
        self._model = NativeModel(config)
        try:
            self._sched = Scheduler(self._model, config)
        except BaseException:
            self._model.close()
            raise
        self._grammars_ok: set[str] = set()  # grammars llama.cpp parsed (checked once)
        self._closed = False
        self._close_lock = threading.Lock()

    # ------------------------------------------------------------------ info
    @property
    def n_ctx_per_slot(self) -> int:
        return self.config.n_ctx_per_slot

    @property
    def metadata(self) -> dict[str, str]:
        """GGUF metadata as strings (arrays such as the vocabulary are not included)."""
        return dict(self._model.metadata)

    @property
    def n_vocab(self) -> int:
        return self._model.n_vocab

    def tokenize(self, text: str, *, add_bos: bool = True, special: bool = True) -> list[int]:
        return self._model.tokenize(text, add_bos=add_bos, special=special)

    def detokenize(self, tokens: list[int], *, special: bool = False) -> str:
        """Tokens -> text; control tokens are rendered only with ``special=True``."""
        return self._model.detokenize(tokens, special=special)

    def stats(self) -> dict[str, int | float]:
        s = self._sched
        c = s.counters
        return {
            "n_slots": self.config.n_slots,
            "active_slots": s.active(),
            "queued_requests": s.queued(),
            "cached_slots": sum(1 for slot in s.slots if slot.tokens),
            "requests_submitted": c.requests_submitted,
            "requests_finished": c.requests_finished,
            "requests_cancelled": c.requests_cancelled,
            "requests_failed": c.requests_failed,
            "tokens_generated": c.tokens_generated,
            "prompt_tokens_evaluated": c.prompt_tokens_evaluated,
            "prompt_tokens_cached": c.prompt_tokens_cached,
            "decode_calls": c.decode_calls,
            "padding_rows": c.padding_rows,
            "decode_seconds": round(c.decode_seconds, 6),
            "ttft_avg_ms": round(1000 * c.ttft_seconds / c.first_tokens, 3)
            if c.first_tokens
            else 0.0,
        }

    # ------------------------------------------------------------------ generation
    def _validate(self, prompt_tokens: list[int], params: SamplingParams) -> list[int]:
        params.validate()
        prompt = [int(t) for t in prompt_tokens]
        if not prompt:
            raise ValueError("prompt must contain at least one token")
        if len(prompt) > self.n_ctx_per_slot - 1:
            raise PromptTooLongError(len(prompt), self.n_ctx_per_slot)
        n_vocab = self._model.n_vocab
        if any(t < 0 or t >= n_vocab for t in prompt):
            raise ValueError(f"prompt contains token ids outside [0, {n_vocab})")
        if params.grammar is not None and params.grammar not in self._grammars_ok:
            check_grammar(self._model, params.grammar)  # GrammarError (a ValueError)
            if len(self._grammars_ok) >= 256:
                self._grammars_ok.clear()
            self._grammars_ok.add(params.grammar)
        return prompt

    async def generate(
        self, prompt_tokens: list[int], params: SamplingParams
    ) -> AsyncGenerator[GenerationChunk | GenerationResult, None]:
        """Stream ``GenerationChunk``s, then one ``GenerationResult``.

        Raises ``PromptTooLongError`` / ``ValueError`` (on the first ``__anext__``, before
        anything is queued), ``EngineClosedError`` if the engine is closed, ``DecodeError``
        if llama.cpp fails. Closing the generator early (``aclose()``, cancellation of the
        consuming task, ``break``) removes the sequence from the batch before the next step.
        """
        prompt = self._validate(prompt_tokens, params)
        if self._closed:
            raise EngineClosedError("engine is closed")
        queue: asyncio.Queue[list[Item]] = asyncio.Queue()
        req = Request(prompt, params, asyncio.get_running_loop(), queue)
        self._sched.submit(req)
        done = False
        try:
            while True:
                items = await queue.get()
                for item in items:
                    if isinstance(item, BaseException):
                        done = True
                        raise item
                    if isinstance(item, GenerationResult):
                        done = True
                        yield item
                        return
                    yield item
        finally:
            if not done:
                self._sched.cancel(req)

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Stop the loop thread (running streams end with finish_reason "cancelled")."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._sched.close()
        self._model.close()

    def __enter__(self) -> BatchedEngine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
