"""Continuous-batching GGUF inference engine with KV prefix reuse (llama.cpp C API)."""

from __future__ import annotations

from .datatypes import (
    FINISH_CANCELLED,
    FINISH_LENGTH,
    FINISH_STOP,
    DecodeError,
    EngineClosedError,
    EngineConfig,
    EngineError,
    GenerationChunk,
    GenerationResult,
    PromptTooLongError,
    SamplingParams,
    TokenChoice,
    TokenLogprob,
)
from .engine import BatchedEngine

__all__ = [
    "FINISH_CANCELLED",
    "FINISH_LENGTH",
    "FINISH_STOP",
    "BatchedEngine",
    "DecodeError",
    "EngineClosedError",
    "EngineConfig",
    "EngineError",
    "GenerationChunk",
    "GenerationResult",
    "PromptTooLongError",
    "SamplingParams",
    "TokenChoice",
    "TokenLogprob",
]
