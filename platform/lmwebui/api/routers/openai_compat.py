"""OpenAI-compatible /v1/models and /v1/chat/completions (JSON and SSE)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from lmwebui.api.deps import ApiUserDep, ServicesDep, V1ChatRateLimit
from lmwebui.chat.protocol import ChatCompletionRequest
from lmwebui.chat.schemas import PROVIDER_ALIASES
from lmwebui.errors import AppError, ValidationFailed, error_body

router = APIRouter(prefix="/v1", tags=["openai"])


def split_provider(model: str) -> tuple[str, str]:
    """`openai/gpt-4o-mini` → ("openai", "gpt-4o-mini"); plain names are GGUF models."""
    head, sep, rest = model.partition("/")
    if sep and head.lower() in PROVIDER_ALIASES:
        return PROVIDER_ALIASES[head.lower()], rest
    return "gguf", model


@router.get("/models")
async def list_models(_user: ApiUserDep, services: ServicesDep) -> dict[str, Any]:
    cards = await services.chat.providers.all_models()
    return {"object": "list", "data": [c.model_dump() for c in cards]}


@router.post("/chat/completions", dependencies=[V1ChatRateLimit], response_model=None)
async def chat_completions(
    body: ChatCompletionRequest, user: ApiUserDep, services: ServicesDep
) -> dict[str, Any] | StreamingResponse:
    limit = services.settings.chat.max_tokens_limit
    if body.max_tokens is not None and body.max_tokens > limit:
        raise ValidationFailed(f"max_tokens must be at most {limit}")
    provider, model = split_provider(body.model)
    engine = await services.chat.providers.engine_for(provider, user.id)
    request = body.model_copy(update={"model": model, "user": body.user or f"u{user.id}"})
    if not body.stream:
        return (await engine.complete(request)).model_dump(exclude_none=True)

    stream = engine.stream(request)
    # Pull the first chunk before answering, so a bad model/request is a proper HTTP error.
    first = await anext(stream)

    async def sse() -> AsyncIterator[str]:
        try:
            yield f"data: {first.model_dump_json(exclude_none=True)}\n\n"
            async for chunk in stream:
                yield f"data: {chunk.model_dump_json(exclude_none=True)}\n\n"
            yield "data: [DONE]\n\n"
        except AppError as exc:
            yield f"data: {json.dumps({'error': error_body(exc.detail, exc.error_code)})}\n\n"
        finally:
            await stream.aclose()  # type: ignore[attr-defined]

    return StreamingResponse(
        sse(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )
