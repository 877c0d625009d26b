"""Upstream OpenAI-compatible APIs through the official `openai` SDK (AsyncOpenAI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai
from openai import AsyncOpenAI
from pydantic import TypeAdapter

from lmwebui.chat.engines.base import ChatEngine, EngineCapabilities
from lmwebui.chat.logprobs import ChoiceLogprobs
from lmwebui.chat.protocol import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChunkChoice,
    ChunkDelta,
    FunctionDelta,
    ModelCard,
    ToolCallDelta,
    Usage,
)
from lmwebui.errors import (
    AppError,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
)
from lmwebui.netpolicy import refusal_in

MAX_RETRY_AFTER_S = 3600


def _retry_after(exc: openai.APIStatusError) -> dict[str, str] | None:
    """The upstream's Retry-After when it is a plain number of seconds (nothing else passes)."""
    value = exc.response.headers.get("retry-after", "").strip()
    if value.isdigit() and int(value) <= MAX_RETRY_AFTER_S:
        return {"Retry-After": str(int(value))}
    return None


def map_openai_error(exc: Exception) -> Exception:
    """An upstream failure as one of the platform's upstream errors, with a fixed message:
    no upstream text is reflected, and an upstream 401 is never the platform's own 401."""
    if isinstance(exc, openai.APITimeoutError):
        return UpstreamTimeout("The upstream provider did not answer in time")
    if isinstance(exc, openai.APIConnectionError):
        refused = refusal_in(exc)
        if refused is not None:
            return UpstreamError(
                f"The provider base URL is refused by the outbound policy: {refused}"
            )
        return UpstreamError("The upstream provider is unreachable")
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return UpstreamAuthFailed(
            f"The upstream provider rejected the API key (HTTP {exc.status_code})"
        )
    if isinstance(exc, openai.RateLimitError):
        return UpstreamRateLimited(
            "The upstream provider is rate limiting this API key", headers=_retry_after(exc)
        )
    if isinstance(exc, openai.APIStatusError):
        return UpstreamError(f"The upstream provider refused the request (HTTP {exc.status_code})")
    if isinstance(exc, AppError):
        return exc
    return UpstreamError("The upstream provider sent an answer the platform cannot read")


# Passed through as the client sent them (unset ones are left out, so the upstream's own
# defaults apply: top_p unset is OpenAI's and vLLM's 1, not the GGUF engine's 0.95, and
# vLLM's CPU sampler then skips a sort of the whole vocabulary per token, 3.5x the
# throughput at 16 streams: loadtests/RESULTS.md); the upstream refuses what it cannot
# do; the log probabilities it sends come back on the chunks.
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
    "logprobs",
    "top_logprobs",
)
# Structured output and tools, as JSON (the upstream enforces them; its tool-call deltas
# come back as they are).
STRUCTURED = ("response_format", "tools", "tool_choice", "parallel_tool_calls")
_JSON: TypeAdapter[Any] = TypeAdapter(Any)


def upstream_params(request: ChatCompletionRequest) -> dict[str, Any]:
    always = ("temperature", "max_tokens")  # the platform's documented defaults
    params = {
        k: getattr(request, k)
        for k in PASSED_THROUGH
        if k in always or k in request.model_fields_set
    }
    if request.max_completion_tokens is not None:  # the newer name alone (o-series models)
        params["max_tokens"] = None
    params["stop"] = request.stop_list() or None
    for k in STRUCTURED:
        value = getattr(request, k)
        params[k] = _JSON.dump_python(value, mode="json", by_alias=True, exclude_none=True)
    return {k: v for k, v in params.items() if v is not None}


def _tool_deltas(calls: list[Any] | None) -> list[ToolCallDelta] | None:
    if not calls:
        return None
    return [
        ToolCallDelta(
            index=t.index,
            id=t.id,
            type=t.type,
            function=FunctionDelta(
                name=t.function.name if t.function else None,
                arguments=t.function.arguments if t.function else None,
            ),
        )
        for t in calls
    ]


def _logprobs(logprobs: Any) -> ChoiceLogprobs | None:
    """The upstream's ``choices[].logprobs`` as they came (token, logprob, bytes, top)."""
    if logprobs is None:
        return None
    return ChoiceLogprobs.model_validate(logprobs.model_dump(exclude_none=True))


class OpenAIChatEngine(ChatEngine):
    """One client per (base URL, key); the SDK's own retries are off so timeouts are bounded.
    A user's own base URL comes with an ``http_client`` of the outbound policy
    (``lmwebui.netpolicy``): every connection checked, no redirects followed."""

    def __init__(
        self,
        base_url: str | None,
        api_key: str,
        timeout_s: float,
        capabilities: EngineCapabilities | None = None,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        self.capabilities = capabilities or EngineCapabilities()
        self.client = AsyncOpenAI(
            base_url=base_url,
            api_key=api_key,
            timeout=timeout_s,
            max_retries=0,
            http_client=http_client,
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
                            delta=ChunkDelta(
                                role=c.delta.role,
                                content=c.delta.content,
                                tool_calls=_tool_deltas(c.delta.tool_calls),
                            ),
                            logprobs=_logprobs(c.logprobs),
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
            ModelCard(id=m.id, created=m.created or 0, owned_by=m.owned_by, provider="openai")
            for m in page.data
        ]

    async def close(self) -> None:
        await self.client.close()
