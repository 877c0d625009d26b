"""Log probabilities as OpenAI shapes them: ``choices[].logprobs.content[]`` for chat
completions (token, logprob, bytes, top_logprobs), the legacy ``tokens`` /
``token_logprobs`` / ``top_logprobs`` / ``text_offset`` lists for /v1/completions.

Engines put one ``ChoiceLogprobs`` entry per sampled token on the chunk that carries the
token; whole answers and legacy chunks are folded from those.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from lmwebui.chat.protocol import ChatCompletionChunk


class TopLogprob(BaseModel):
    token: str = Field(description="The token as text (invalid UTF-8 replaced).")
    logprob: float = Field(description="Its log probability (<= 0).")
    bytes: list[int] | None = Field(None, description="The token's UTF-8 bytes.")


class TokenLogprob(TopLogprob):
    top_logprobs: list[TopLogprob] = Field(
        default_factory=list, description="The likeliest tokens at this step, best first."
    )


class ChoiceLogprobs(BaseModel):
    content: list[TokenLogprob] | None = Field(None, description="One entry per output token.")
    refusal: list[TokenLogprob] | None = Field(None, description="Always null here.")


class CompletionLogprobs(BaseModel):
    """/v1/completions' legacy shape; ``top_logprobs`` maps token text to log probability
    (the sampled token included, as OpenAI does)."""

    tokens: list[str] = Field(default_factory=list)
    token_logprobs: list[float] = Field(default_factory=list)
    top_logprobs: list[dict[str, float]] = Field(default_factory=list)
    text_offset: list[int] = Field(default_factory=list)


def fold_logprobs(chunks: Iterable[ChatCompletionChunk]) -> dict[int, ChoiceLogprobs]:
    """Each choice index's log probabilities in a finished stream (choices without any
    are left out)."""
    out: dict[int, list[TokenLogprob]] = {}
    for chunk in chunks:
        for c in chunk.choices:
            if c.logprobs is not None and c.logprobs.content:
                out.setdefault(c.index, []).extend(c.logprobs.content)
    return {i: ChoiceLogprobs(content=content) for i, content in out.items()}


def legacy(logprobs: ChoiceLogprobs | None, offset: int) -> CompletionLogprobs | None:
    """The chat shape as /v1/completions' legacy lists; ``offset`` is where the first
    token starts in the choice's text."""
    if logprobs is None:
        return None
    out = CompletionLogprobs()
    for t in logprobs.content or []:
        out.tokens.append(t.token)
        out.token_logprobs.append(t.logprob)
        top = {a.token: a.logprob for a in t.top_logprobs}
        top.setdefault(t.token, t.logprob)
        out.top_logprobs.append(top)
        out.text_offset.append(offset)
        offset += len(t.token)
    return out
