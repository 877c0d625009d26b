"""The internal chat protocol: OpenAI chat-completions shapes (request, chunk, response).

Every engine (llama.cpp, vLLM, an upstream OpenAI-compatible API) speaks this; the ingress
translates the LM WebUI request into it. Objects cross Ray as plain dicts (model_dump()).
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant", "tool"]


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Role = Field(description="Author of the message.")
    content: str = Field(description="Message text.")


class ChatCompletionRequest(BaseModel):
    """Subset of OpenAI's request that the platform honours."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(description="Model id (a GGUF file name for the GGUF engine).")
    messages: list[ChatMessage] = Field(min_length=1, description="The conversation so far.")
    temperature: float = Field(0.7, ge=0.0, le=2.0, description="Sampling temperature.")
    top_p: float = Field(0.95, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    max_tokens: int | None = Field(None, ge=1, description="Most tokens to generate.")
    stop: list[str] | str | None = Field(None, description="Stop strings.")
    seed: int | None = Field(None, description="Sampling seed.")
    stream: bool = Field(False, description="Stream chunks (SSE on /v1).")
    user: str | None = Field(None, description="End-user id; also the cache-affinity key.")

    def stop_list(self) -> list[str]:
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    prompt_tokens_details: dict[str, int] | None = None


class ChunkDelta(BaseModel):
    role: str | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: ChunkDelta
    finish_reason: str | None = None


class _Completion(BaseModel):
    """Fields every chat-completion object (chunk or whole response) carries."""

    id: str
    created: int
    model: str


class ChatCompletionChunk(_Completion):
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    choices: list[ChunkChoice]
    usage: Usage | None = None


class ResponseChoice(BaseModel):
    index: int = 0
    message: ChatMessage
    finish_reason: str | None = None


class ChatCompletionResponse(_Completion):
    object: Literal["chat.completion"] = "chat.completion"
    choices: list[ResponseChoice]
    usage: Usage


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "lmwebui"
    provider: str = "gguf"
    metadata: dict[str, Any] = Field(default_factory=dict)


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def now() -> int:
    return int(time.time())


class StreamChunks:
    """Makes the chunks of one streamed completion (same id, timestamp and model)."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.id = completion_id()
        self.created = now()

    def __call__(
        self,
        content: str | None,
        finish: str | None = None,
        usage: Usage | None = None,
        role: str | None = None,
    ) -> ChatCompletionChunk:
        return ChatCompletionChunk(
            id=self.id,
            created=self.created,
            model=self.model,
            choices=[
                ChunkChoice(delta=ChunkDelta(role=role, content=content), finish_reason=finish)
            ],
            usage=usage,
        )


def aggregate(chunks: list[ChatCompletionChunk], model: str) -> ChatCompletionResponse:
    """Fold a finished stream into one response."""
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finish = next(
        (
            c.choices[0].finish_reason
            for c in reversed(chunks)
            if c.choices and c.choices[0].finish_reason
        ),
        "stop",
    )
    usage = next((c.usage for c in reversed(chunks) if c.usage is not None), Usage())
    return ChatCompletionResponse(
        id=chunks[0].id if chunks else completion_id(),
        created=now(),
        model=model,
        choices=[
            ResponseChoice(
                message=ChatMessage(role="assistant", content=text), finish_reason=finish
            )
        ],
        usage=usage,
    )
