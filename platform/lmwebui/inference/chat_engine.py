"""GGUFChatEngine: the ChatEngine over batched llama.cpp models from the models directory."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from lmwebui.chat.chunks import StreamChunks
from lmwebui.chat.engines.base import ChatEngine
from lmwebui.chat.protocol import ChatCompletionChunk, ChatCompletionRequest, ChatMessage, ModelCard
from lmwebui.chat.text_completion import TextCompletionRequest
from lmwebui.errors import ValidationFailed
from lmwebui.inference import structured
from lmwebui.inference.capabilities import gguf_capabilities
from lmwebui.inference.choices import Sequence, nth_params, run_sequences
from lmwebui.inference.engine import GenerationResult, PromptTooLongError
from lmwebui.inference.engine import SamplingParams as EngineSampling
from lmwebui.inference.loaded import LoadedModel
from lmwebui.metrics import get_metrics
from lmwebui.models.files import gguf_model_id, list_gguf_files

DEFAULT_MAX_TOKENS = 512
ModelGetter = Callable[[str], Awaitable[LoadedModel]]


def record_engine_result(model: str, result: GenerationResult) -> None:
    metrics, tags = get_metrics(), {"model": model}
    metrics.observe("lmwebui_engine_queue_seconds", result.queue_seconds, tags)
    if result.prefill_seconds:
        metrics.observe("lmwebui_engine_prefill_seconds", result.prefill_seconds, tags)
    metrics.inc("lmwebui_engine_cached_prompt_tokens_total", result.cached_tokens, tags)
    metrics.inc(
        "lmwebui_engine_evaluated_prompt_tokens_total",
        result.prompt_tokens - result.cached_tokens,
        tags,
    )


class PromptTooLong(ValidationFailed):
    """The newest message alone does not fit the model's context window."""


def fit_messages(
    model: LoadedModel, messages: list[ChatMessage], reserve: int
) -> tuple[list[int], list[str], bool]:
    """Tokenize the conversation, dropping the oldest turns until it fits the context.

    System messages and the newest message are always kept. Returns (tokens, stop strings,
    whether anything was dropped).
    """
    budget = model.engine.n_ctx_per_slot - reserve
    system = [m for m in messages if m.role == "system"]
    turns = [m for m in messages if m.role != "system"]
    dropped = False
    while True:
        prompt = model.formatter(system + turns)
        tokens = model.engine.tokenize(prompt.text, add_bos=prompt.add_bos, special=True)
        if len(tokens) <= budget:
            return tokens, list(prompt.stop), dropped
        if len(turns) <= 1:
            raise PromptTooLong(
                f"Message is too long for the model's context window: {len(tokens)} tokens, "
                f"limit {budget} (context {model.engine.n_ctx_per_slot}, "
                f"{reserve} reserved for the answer)"
            )
        turns = turns[1:]
        dropped = True


def sampling(
    request: ChatCompletionRequest | TextCompletionRequest,
    n_vocab: int,
    max_tokens: int,
    stop: tuple[str, ...],
) -> EngineSampling:
    """The engine's sampling parameters for an OpenAI request (logit_bias ids checked
    against the model's vocabulary: an unknown id is a 400 naming logit_bias). Log
    probabilities: chat's ``logprobs`` + ``top_logprobs``, /v1/completions' ``logprobs`` k."""
    bias = tuple((int(t), b) for t, b in (request.logit_bias or {}).items())
    if any(t >= n_vocab for t, _ in bias):
        raise ValidationFailed(
            f"logit_bias: token ids must be below {n_vocab} (the model's vocabulary)",
            extra={"fields": [{"field": "logit_bias", "message": "token id out of range"}]},
        )
    return EngineSampling(
        temperature=request.temperature,
        top_p=request.top_p,
        max_tokens=max_tokens,
        seed=request.seed,
        stop=tuple(dict.fromkeys(stop)),
        presence_penalty=request.presence_penalty,
        frequency_penalty=request.frequency_penalty,
        logit_bias=bias,
        logprobs=_logprobs(request),
    )


def _logprobs(request: ChatCompletionRequest | TextCompletionRequest) -> int | None:
    """Alternatives per token when log probabilities are asked for, else None."""
    if isinstance(request, TextCompletionRequest):
        return request.logprobs
    return (request.top_logprobs or 0) if request.logprobs else None


class GGUFChatEngine(ChatEngine):
    def __init__(
        self, models_dir: Path, get_model: ModelGetter, default_model: str, n_ctx_per_slot: int
    ) -> None:
        self.capabilities = gguf_capabilities(default_model, n_ctx_per_slot)
        self.models_dir = models_dir
        self._get_model = self._tracking(get_model)
        self.default_model = default_model
        self._loaded: dict[str, LoadedModel] = {}

    def _tracking(self, get_model: ModelGetter) -> ModelGetter:
        async def get(name: str) -> LoadedModel:
            model = await get_model(name)
            self._loaded[name] = model
            return model

        return get

    def stats(self) -> dict[str, dict[str, int | float]]:
        """Engine counters of every model loaded on this replica."""
        for name in [n for n, m in self._loaded.items() if m.closed]:
            del self._loaded[name]
        return {name: model.engine.stats() for name, model in self._loaded.items()}

    def export_gauges(self) -> None:
        metrics = get_metrics()
        for name, stats in self.stats().items():
            tags = {"model": name}
            metrics.set("lmwebui_engine_active_slots", stats["active_slots"], tags)
            metrics.set("lmwebui_engine_queued_requests", stats["queued_requests"], tags)

    def resolve_model(self, name: str | None) -> str:
        return gguf_model_id(name, self.default_model)

    async def stream(self, request: ChatCompletionRequest) -> AsyncIterator[ChatCompletionChunk]:
        name = request.model  # resolved by the caller (resolve_model)
        shape = structured.plan(request)  # response_format / tools (a 400 before queueing)
        model = await self._get_model(name)
        ctx = model.engine.n_ctx_per_slot
        wanted = request.max_tokens or DEFAULT_MAX_TOKENS
        reserve = min(wanted, max(ctx // 2, 1))
        tokens, stops, _ = await asyncio.to_thread(
            fit_messages, model, shape.messages(request.messages), reserve
        )
        max_tokens = max(1, min(wanted, ctx - len(tokens) - 1))
        stop = (*stops, *request.stop_list())
        params = sampling(request, model.engine.n_vocab, max_tokens, stop)
        params = dataclasses.replace(params, grammar=shape.grammar)
        seqs = [Sequence(i, 0, tokens, nth_params(params, i)) for i in range(request.n)]
        async for chunk in shape.chunks(self._run(name, model, seqs)):
            yield chunk

    async def complete(self, request: TextCompletionRequest) -> AsyncIterator[ChatCompletionChunk]:
        """The raw prompts, no chat template; choice index = prompt x n + choice."""
        name = request.model
        model = await self._get_model(name)
        ctx = model.engine.n_ctx_per_slot
        seqs = []
        for p, text in enumerate(request.prompts()):
            tokens = await asyncio.to_thread(model.engine.tokenize, text, add_bos=True)
            if len(tokens) > ctx - 1:
                raise PromptTooLong(f"Prompt {p} has {len(tokens)} tokens, limit {ctx - 1}")
            max_tokens = max(1, min(request.max_tokens, ctx - len(tokens) - 1))
            params = sampling(request, model.engine.n_vocab, max_tokens, tuple(request.stop_list()))
            echo = text if request.echo else ""
            seqs += [
                Sequence(p * request.n + i, p, tokens, nth_params(params, i), echo)
                for i in range(request.n)
            ]
        async for chunk in self._run(name, model, seqs):
            yield chunk

    async def _run(
        self, name: str, model: LoadedModel, seqs: list[Sequence]
    ) -> AsyncIterator[ChatCompletionChunk]:
        try:
            async for item in run_sequences(model.engine, seqs, StreamChunks(name)):
                if isinstance(item, GenerationResult):
                    record_engine_result(name, item)
                else:
                    yield item
        except PromptTooLongError as exc:
            raise PromptTooLong(str(exc)) from exc

    async def models(self) -> list[ModelCard]:
        files = await asyncio.to_thread(list_gguf_files, self.models_dir)
        return [
            ModelCard(
                id=p.name,
                created=int(p.stat().st_mtime),
                provider="gguf",
                metadata={"size_bytes": p.stat().st_size},
            )
            for p in files
        ]
