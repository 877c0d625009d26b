"""One streamed completion's chunks: made with one id (``StreamChunks``), folded back into
one response (``aggregate``) when the client did not ask for a stream."""

from __future__ import annotations

import time
import uuid

from lmwebui.chat.logprobs import ChoiceLogprobs, fold_logprobs
from lmwebui.chat.protocol import (
    ChatCompletionChunk,
    ChatCompletionResponse,
    ChatMessage,
    ChunkChoice,
    ChunkDelta,
    ResponseChoice,
    ToolCall,
    ToolCallFunction,
    Usage,
)


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
        index: int = 0,
        logprobs: ChoiceLogprobs | None = None,
    ) -> ChatCompletionChunk:
        return ChatCompletionChunk(
            id=self.id,
            created=self.created,
            model=self.model,
            choices=[
                ChunkChoice(
                    index=index,
                    delta=ChunkDelta(role=role, content=content),
                    logprobs=logprobs,
                    finish_reason=finish,
                )
            ],
            usage=usage,
        )


def fold_choices(chunks: list[ChatCompletionChunk]) -> dict[int, tuple[str, str]]:
    """Each choice index's (text, finish_reason) in a finished stream."""
    texts: dict[int, list[str]] = {}
    finishes: dict[int, str] = {}
    for chunk in chunks:
        for c in chunk.choices:
            texts.setdefault(c.index, []).append(c.delta.content or "")
            if c.finish_reason:
                finishes[c.index] = c.finish_reason
    return {i: ("".join(texts[i]), finishes.get(i, "stop")) for i in sorted(texts)}


def fold_tool_calls(chunks: list[ChatCompletionChunk]) -> dict[int, list[ToolCall]]:
    """Each choice index's tool calls, their streamed pieces joined."""
    calls: dict[int, dict[int, ToolCall]] = {}
    for chunk in chunks:
        for c in chunk.choices:
            for d in c.delta.tool_calls or []:
                call = calls.setdefault(c.index, {}).setdefault(
                    d.index, ToolCall(id="", function=ToolCallFunction(name="", arguments=""))
                )
                call.id = d.id or call.id
                call.function.name = d.function.name or call.function.name
                call.function.arguments += d.function.arguments or ""
    return {i: [by[k] for k in sorted(by)] for i, by in calls.items()}


def aggregate(chunks: list[ChatCompletionChunk], model: str) -> ChatCompletionResponse:
    """Fold a finished stream into one response."""
    usage = next((c.usage for c in reversed(chunks) if c.usage is not None), Usage())
    choices = fold_choices(chunks) or {0: ("", "stop")}
    calls, logprobs = fold_tool_calls(chunks), fold_logprobs(chunks)
    return ChatCompletionResponse(
        id=chunks[0].id if chunks else completion_id(),
        created=now(),
        model=model,
        choices=[
            ResponseChoice(
                index=i,
                message=ChatMessage(role="assistant", content=text, tool_calls=calls.get(i)),
                logprobs=logprobs.get(i),
                finish_reason=finish,
            )
            for i, (text, finish) in choices.items()
        ],
        usage=usage,
    )
