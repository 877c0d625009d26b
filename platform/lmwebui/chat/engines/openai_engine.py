"""Upstream OpenAI-compatible APIs through the official `openai` SDK (AsyncOpenAI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import openai
from openai import AsyncOpenAI

from lmwebui.chat.engines.base import ChatEngine, EngineCapabilities
from lmwebui.chat.protocol import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChunkChoice,
    ChunkDelta,
    ModelCard,
    Usage,
)
from lmwebui.errors import (
    AuthRequired,
    ModelNotFound,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
    ValidationFailed,
)


def map_openai_error(exc: Exception) -> Exception:
    if isinstance(exc, openai.APITimeoutError):
        return UpstreamTimeout("The upstream provider did not answer in time")
    if isinstance(exc, openai.APIConnectionError):
        return UpstreamError("The upstream provider is unreachable")
    if isinstance(exc, openai.NotFoundError):
        return ModelNotFound("The upstream provider does not know this model")
    if isinstance(exc, openai.AuthenticationError):
        return AuthRequired("The upstream provider rejected the API key")
    if isinstance(exc, openai.RateLimitError):
        return RateLimited("The upstream provider is rate limiting requests")
    if isinstance(exc, openai.BadRequestError):
        return ValidationFailed(f"The upstream provider rejected the request: {exc.message}")
    if isinstance(exc, openai.APIStatusError):
        return UpstreamError(f"The upstream provider answered {exc.status_code}")
    return exc


# Passed through as the client sent them (unset ones are left out); the upstream refuses
# what it cannot do. Log probabilities are refused here: the chunks carry no logprobs.
PASSED_THROUGH = (
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "n",
    "user",
)
UPSTREAM_REFUSED = frozenset({"logprobs", "top_logprobs"})


def upstream_params(request: ChatCompletionRequest) -> dict[str, Any]:
    always = ("temperature", "top_p", "max_tokens")
    params = {
        k: getattr(request, k)
        for k in PASSED_THROUGH
        if k in always or k in request.model_fields_set
    }
    if request.max_completion_tokens is not None:  # the newer name alone (o-series models)
        params["max_tokens"] = None
    params["stop"] = request.stop_list() or None
    return {k: v for k, v in params.items() if v is not None}


class OpenAIChatEngine(ChatEngine):
    """One client per (base URL, key); the SDK's own retries are off so timeouts are bounded."""

    def __init__(
        self,
        base_url: str | None,
        api_key: str,
        timeout_s: float,
        capabilities: EngineCapabilities | None = None,
    ) -> None:
        caps = capabilities or EngineCapabilities()
        self.capabilities = replace(caps, refused_params=caps.refused_params | UPSTREAM_REFUSED)
        self.client = AsyncOpenAI(
            base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=0
        )

    async def stream(self, request: ChatCompletionRequest) -> AsyncIterator[ChatCompletionChunk]:
        try:
            upstream = await self.client.chat.completions.create(  # type: ignore[call-overload]
                model=request.model,
                messages=[m.model_dump(exclude_none=True) for m in request.messages],  # type: ignore[misc]
                stream=True,
                stream_options={"include_usage": True},
                **upstream_params(request),
            )
            async with upstream:
                async for chunk in upstream:
                    usage = (
                        Usage(
                            prompt_tokens=chunk.usage.prompt_tokens,
                            completion_tokens=chunk.usage.completion_tokens,
                            total_tokens=chunk.usage.total_tokens,
                        )
                        if chunk.usage
                        else None
                    )
                    choices = [
                        ChunkChoice(
                            index=c.index,
                            delta=ChunkDelta(role=c.delta.role, content=c.delta.content),
                            finish_reason=c.finish_reason,
                        )
                        for c in chunk.choices
                    ]
                    yield ChatCompletionChunk(
                        id=chunk.id,
                        created=chunk.created,
                        model=chunk.model,
                        choices=choices,
                        usage=usage,
                    )
        except openai.OpenAIError as exc:
            raise map_openai_error(exc) from exc

    async def models(self) -> list[ModelCard]:
        try:
            page = await self.client.models.list()
        except openai.OpenAIError as exc:
            raise map_openai_error(exc) from exc
        return [
            ModelCard(id=m.id, created=m.created, owned_by=m.owned_by, provider="openai")
            for m in page.data
        ]

    async def close(self) -> None:
        await self.client.close()
