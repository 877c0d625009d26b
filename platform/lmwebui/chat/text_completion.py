"""OpenAI's legacy completions (/v1/completions): prompt in, text out, no chat template.

The engines answer a ``TextCompletionRequest`` with the same chunks as a chat completion
(one choice index per prompt x n); the service reshapes them into ``text_completion``
objects here.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic.config import JsonDict

from lmwebui.chat.chunks import fold_choices, now
from lmwebui.chat.logprobs import ChoiceLogprobs, CompletionLogprobs, fold_logprobs, legacy
from lmwebui.chat.params import (
    MAX_CHOICES,
    REFUSED_COMPLETION_PARAMS,
    refuse_if_set,
)
from lmwebui.chat.protocol import ChatCompletionChunk, SamplingRequest, Usage, integral

MAX_PROMPTS = 8  # prompts in one request (each is n choices)
DEFAULT_COMPLETION_TOKENS = 16  # OpenAI's default for /v1/completions


# published: what _prompts below checks
_PROMPTS: JsonDict = {
    "type": "array",
    "items": {"type": "string"},
    "minItems": 1,
    "maxItems": MAX_PROMPTS,
}


class TextCompletionRequest(SamplingRequest):
    """The /v1/completions request; see chat/params.py for what is refused and ignored."""

    model: str = Field(description="Model id (a GGUF file name for the GGUF engine).")
    prompt: str | list[str] = Field(
        description=f"A prompt or up to {MAX_PROMPTS} prompts.",
        json_schema_extra={"anyOf": [{"type": "string"}, _PROMPTS]},
    )
    max_tokens: int = Field(DEFAULT_COMPLETION_TOKENS, ge=1, description="Most tokens per choice.")
    echo: bool = Field(False, description="Return the prompt before the completion.")
    n: int = Field(1, ge=1, le=MAX_CHOICES, description="Choices per prompt.")
    logprobs: int | None = Field(
        None, ge=0, le=5, description="Log probabilities of each token and of k alternatives."
    )
    suffix: Any = Field(None, description="Refused (400): no fill-in-the-middle.")
    best_of: Any = Field(None, description="Refused (400): use n.")

    @field_validator(*REFUSED_COMPLETION_PARAMS, mode="before")
    @classmethod
    def _refused(cls, value: Any, info: Any) -> Any:
        return refuse_if_set(info.field_name, value, REFUSED_COMPLETION_PARAMS)

    @field_validator("prompt")
    @classmethod
    def _prompts(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and not 1 <= len(value) <= MAX_PROMPTS:
            raise ValueError(f"between 1 and {MAX_PROMPTS} prompts")
        return value

    _integers = field_validator("max_tokens", "seed", "n", "logprobs", mode="before")(integral)

    @model_validator(mode="after")
    def _no_prompt_logprobs(self) -> TextCompletionRequest:
        if self.echo and self.logprobs is not None:
            raise ValueError("logprobs with echo is not supported (no prompt log probabilities)")
        return self

    def prompts(self) -> list[str]:
        return [self.prompt] if isinstance(self.prompt, str) else list(self.prompt)


class TextChoice(BaseModel):
    index: int = 0
    text: str
    logprobs: CompletionLogprobs | None = None
    finish_reason: str | None = None


class TextCompletion(BaseModel):
    """A whole answer, or (streaming) one chunk of it: OpenAI uses one object type."""

    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[TextChoice]
    usage: Usage | None = None


def text_completion_id() -> str:
    return f"cmpl-{uuid.uuid4().hex[:24]}"


def as_text_chunk(chunk: ChatCompletionChunk, cid: str, offsets: dict[int, int]) -> TextCompletion:
    """One streamed chunk; ``offsets`` (choice index -> length of the tokens so far) places
    its tokens as ``fold_text`` does."""
    choices = []
    for c in chunk.choices:
        lp = legacy(c.logprobs, offsets.get(c.index, 0))
        if lp is not None and lp.tokens:
            offsets[c.index] = lp.text_offset[-1] + len(lp.tokens[-1])
        text = c.delta.content or ""
        choices.append(
            TextChoice(index=c.index, text=text, logprobs=lp, finish_reason=c.finish_reason)
        )
    return TextCompletion(
        id=cid, created=chunk.created, model=chunk.model, choices=choices, usage=chunk.usage
    )


def fold_text(chunks: list[ChatCompletionChunk], model: str) -> TextCompletion:
    """A finished stream as one ``text_completion``."""
    usage = next((c.usage for c in reversed(chunks) if c.usage is not None), Usage())
    logprobs: dict[int, ChoiceLogprobs] = fold_logprobs(chunks)
    return TextCompletion(
        id=text_completion_id(),
        created=now(),
        model=model,
        choices=[
            TextChoice(
                index=i, text=text, logprobs=legacy(logprobs.get(i), 0), finish_reason=finish
            )
            for i, (text, finish) in fold_choices(chunks).items()
        ],
        usage=usage,
    )
