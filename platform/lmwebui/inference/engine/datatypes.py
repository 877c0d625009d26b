"""Public value types of the batched GGUF engine."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any

# The chat settings are the one source of the engine options a platform operator sets; the
# dataclass defaults below are theirs, so an engine built directly (tests, benchmarks)
# runs like a replica's unless told otherwise. (pydantic types only: no Ray, no FastAPI.)
from lmwebui.settings import ChatSettings

FINISH_STOP = "stop"
FINISH_LENGTH = "length"
FINISH_CANCELLED = "cancelled"
MAX_TOP_LOGPROBS = 20


class EngineError(RuntimeError):
    """Base class for runtime failures of the engine (not caller mistakes)."""


class EngineClosedError(EngineError):
    """The engine was closed before (or while) the request ran."""


class DecodeError(EngineError):
    """``llama_decode`` failed for a batch this request was part of."""


class PromptTooLongError(ValueError):
    """The prompt does not fit into one slot's context (needs room for >= 1 new token)."""

    def __init__(self, n_prompt: int, n_ctx_per_slot: int) -> None:
        super().__init__(
            f"prompt has {n_prompt} tokens but a slot holds {n_ctx_per_slot} "
            f"(at most {n_ctx_per_slot - 1} prompt tokens)"
        )
        self.n_prompt = n_prompt
        self.n_ctx_per_slot = n_ctx_per_slot


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.7  # 0 => greedy
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.0
    # OpenAI's penalties (llama.cpp's penalties sampler over the last 64 tokens)
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    # (token id, bias added to its logit) pairs, applied before any other sampler
    logit_bias: tuple[tuple[int, float], ...] = ()
    max_tokens: int = 256
    seed: int | None = None
    # Text-level stop strings; a partial stop string is never leaked into the output.
    stop: tuple[str, ...] = ()
    # GBNF grammar (root rule "root") the output must follow: llama.cpp's grammar sampler in
    # this sequence's chain; end-of-generation is only allowed where the grammar is complete.
    grammar: str | None = None
    # Log probabilities of each sampled token and of this many likeliest alternatives
    # (0-20); None: not computed (the default path reads no logits in Python).
    logprobs: int | None = None

    def validate(self) -> None:
        if self.max_tokens < 1:
            raise ValueError("max_tokens must be >= 1")
        if self.temperature < 0:
            raise ValueError("temperature must be >= 0")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError("top_p must be in (0, 1]")
        if self.min_p < 0 or self.min_p > 1:
            raise ValueError("min_p must be in [0, 1]")
        if self.repeat_penalty <= 0:
            raise ValueError("repeat_penalty must be > 0")
        if not (-2.0 <= self.presence_penalty <= 2.0 and -2.0 <= self.frequency_penalty <= 2.0):
            raise ValueError("presence_penalty and frequency_penalty must be in [-2, 2]")
        if self.seed is not None and not 0 <= self.seed < 2**32:
            raise ValueError("seed must fit into 32 bits")
        if self.logprobs is not None and not 0 <= self.logprobs <= MAX_TOP_LOGPROBS:
            raise ValueError(f"logprobs must be in [0, {MAX_TOP_LOGPROBS}]")


def _chat_default(name: str) -> Any:
    return ChatSettings.model_fields[name].default


@dataclass(frozen=True)
class EngineConfig:
    """Options of one engine. A replica builds it with :meth:`from_settings`; fields that
    mirror a chat setting default to that setting's default (lmwebui/settings.py)."""

    model_path: str
    n_slots: int = _chat_default("n_slots")  # parallel sequences per replica
    n_ctx_per_slot: int = _chat_default("n_ctx_per_slot")  # one KV stream per slot
    n_threads: int | None = _chat_default("n_threads")  # None => os.cpu_count()
    # Threads for a step that decodes ONE token of ONE sequence (llama.cpp's n_threads;
    # batches of several tokens use n_threads). None => half of n_threads (resolved_threads).
    n_threads_single: int | None = _chat_default("n_threads_single")
    n_gpu_layers: int = _chat_default("n_gpu_layers")
    n_batch: int = 512  # max real tokens per decode step
    prefill_chunk: int = 256  # max prompt tokens of ONE sequence per decode step
    flash_attn: bool = _chat_default("flash_attn")
    # --- extensions (not in the original interface sketch) ---
    # Batch-invariant numerics: the tokens a sequence gets do not depend on what else is in
    # the batch (see scheduler.py for what this changes and what it costs).
    deterministic: bool = _chat_default("deterministic")
    verbose: bool = False  # let llama.cpp log to stderr

    @classmethod
    def from_settings(cls, chat: ChatSettings, model_path: str, **overrides: Any) -> EngineConfig:
        """The engine a chat replica runs on ``model_path``: every option from the chat
        settings, thread counts resolved on this machine. ``overrides`` are what the host
        decides itself (ChatGGUF: ``n_gpu_layers=-1`` on a replica given a GPU)."""
        options: dict[str, Any] = {
            "n_slots": chat.n_slots,
            "n_ctx_per_slot": chat.n_ctx_per_slot,
            "n_threads": chat.n_threads,
            "n_threads_single": chat.n_threads_single,
            "n_gpu_layers": chat.n_gpu_layers,
            "flash_attn": chat.flash_attn,
            "deterministic": chat.deterministic,
        }
        config = cls(model_path=model_path, **{**options, **overrides})
        n_threads, n_threads_single = config.resolved_threads()
        return replace(config, n_threads=n_threads, n_threads_single=n_threads_single)

    def resolved_threads(self) -> tuple[int, int]:
        """(threads for batches, threads for one sequence decoding alone). The second
        defaults to half of the first: one stream decoding alone scales poorly past half
        the cores, and the ingress, Ray and the clients need the rest (loadtests/RESULTS.md:
        a lone stream through the platform on 2 cores, 79 → 89 tok/s)."""
        n_threads = self.n_threads or os.cpu_count() or 1
        single = self.n_threads_single or max(1, n_threads // 2)
        return n_threads, min(single, n_threads)

    def validate(self) -> None:
        if self.n_slots < 1:
            raise ValueError("n_slots must be >= 1")
        if self.n_ctx_per_slot < 2:
            raise ValueError("n_ctx_per_slot must be >= 2")
        if self.n_batch < 1 or self.prefill_chunk < 1:
            raise ValueError("n_batch and prefill_chunk must be >= 1")
        if self.n_threads is not None and self.n_threads < 1:
            raise ValueError("n_threads must be >= 1")
        if self.n_threads_single is not None and self.n_threads_single < 1:
            raise ValueError("n_threads_single must be >= 1")


@dataclass(frozen=True)
class TokenChoice:
    """A token, its bytes in running text and its log probability at one step."""

    token: int
    piece: bytes
    logprob: float


@dataclass(frozen=True)
class TokenLogprob:
    """The sampled token's log probability and the ``k`` likeliest tokens' (best first),
    from the log-softmax of the model's raw logits at that step (before logit_bias,
    penalties, temperature and grammar: vLLM's default, what the model itself says)."""

    chosen: TokenChoice
    top: tuple[TokenChoice, ...] = ()


@dataclass
class GenerationChunk:
    """Streamed piece of output (one sampled token)."""

    text: str  # new text; UTF-8 safe (never half a character); may be ""
    token_ids: list[int] = field(default_factory=list)
    # The sampled token's log probabilities (only when SamplingParams.logprobs is set; a
    # chunk that only flushes held-back text has none).
    logprob: TokenLogprob | None = None


@dataclass
class GenerationResult:
    """Last item of every stream."""

    finish_reason: str  # "stop" | "length" | "cancelled"
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int  # prompt tokens whose KV was reused (not re-evaluated)
    queue_seconds: float = 0.0  # submit -> admitted to a slot
    prefill_seconds: float = 0.0  # admitted -> first token sampled
