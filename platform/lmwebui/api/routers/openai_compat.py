"""OpenAI-compatible /v1/models, /v1/chat/completions and /v1/completions (JSON and SSE)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from lmwebui.api.deps import ApiUserDep, ChatDep, V1ChatRateLimit
from lmwebui.api.responses import CHAT_ERRORS, errors
from lmwebui.chat.events import ErrorEvent
from lmwebui.chat.protocol import (
    ChatCompletionRequest,
    ChatCompletionResponse,
    ModelCard,
)
from lmwebui.chat.text_completion import TextCompletion, TextCompletionRequest
from lmwebui.errors import error_body

router = APIRouter(prefix="/v1", tags=["openai"])


class ModelList(BaseModel):
    object: str = "list"
    data: list[ModelCard]


@router.get("/models", response_model=ModelList, responses=errors(401))
async def list_models(_user: ApiUserDep, chat: ChatDep) -> ModelList:
    return ModelList(data=await chat.models())


@router.post(
    "/chat/completions",
    dependencies=[V1ChatRateLimit],
    response_model=ChatCompletionResponse,
    response_model_exclude_none=True,
    responses={
        **CHAT_ERRORS,
        200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE when stream"},
    },
)
async def chat_completions(
    body: ChatCompletionRequest, user: ApiUserDep, chat: ChatDep
) -> ChatCompletionResponse | StreamingResponse:
    if not body.stream:
        return await chat.completion(user, body)
    chunks = await chat.completion_stream(user, body)
    return StreamingResponse(
        sse(chunks), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


@router.post(
    "/completions",
    dependencies=[V1ChatRateLimit],
    response_model=TextCompletion,
    response_model_exclude_none=True,
    responses={
        **CHAT_ERRORS,
        200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE when stream"},
    },
)
async def completions(
    body: TextCompletionRequest, user: ApiUserDep, chat: ChatDep
) -> TextCompletion | StreamingResponse:
    if not body.stream:
        return await chat.text_completion(user, body)
    chunks = await chat.text_completion_stream(user, body)
    return StreamingResponse(
        sse(chunks), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


async def sse(chunks: AsyncIterator[BaseModel]) -> AsyncIterator[str]:
    """``data: <chunk>`` lines, ``data: [DONE]`` at the end; an error after the first chunk
    (the status is sent) is one ``data: {"error": ...}`` line in the error contract."""
    try:
        async for chunk in chunks:
            yield f"data: {chunk.model_dump_json(exclude_none=True)}\n\n"
        yield "data: [DONE]\n\n"
    except Exception as exc:
        event = ErrorEvent.of(exc)
        yield f"data: {json.dumps({'error': error_body(event.detail, event.error_code)})}\n\n"
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]
