"""The events of one chat turn, as REST, WebSocket and SSE send them (the API reference's
`reasoning_step`, `token_update`, `final_answer`, `cancelled` and `error`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer

from lmwebui.errors import AppError


class Sparse(BaseModel):
    """Serialises without its optional top-level fields that are None (reasoning_steps
    only with deep thinking, ...), while nested objects keep every field."""

    # No return annotation on purpose: pydantic would take it as the serialised schema
    # (and /docs would show no fields).
    @model_serializer(mode="wrap")
    def _sparse(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        fields = type(self).model_fields
        return {
            k: v
            for k, v in handler(self).items()
            if v is not None or k not in fields or fields[k].default is not None
        }

    def wire(self) -> dict[str, Any]:
        """The JSON-ready dict a socket or stream sends."""
        data: dict[str, Any] = self.model_dump(mode="json")
        return data


class _Event(Sparse):
    pass


class ReasoningStep(_Event):
    type: Literal["reasoning_step"] = "reasoning_step"
    step_index: int = Field(description="1-based position of the step in this turn.")
    step_type: str = Field(description="analysis (the first step) or reasoning.")
    title: str = Field(description="The step's first line, without its numbering.")
    content: str = Field(description="The step's text.")
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="source (native or reasoning_pass) and chars."
    )


class TokenUpdate(_Event):
    type: Literal["token_update"] = "token_update"
    token: str = Field(description="New visible text of the answer.")
    is_complete: bool = Field(False, description="Always false; final_answer ends the turn.")


class Citation(BaseModel):
    index: int = Field(description="The excerpt's number in the prompt ([1], [2], ...).")
    document_id: str
    filename: str
    page: int | None = None
    score: float
    chunk_id: str
    snippet: str = Field(
        "", description="The start of the excerpt's text (what a page shows under the source)."
    )


class FinalAnswer(_Event):
    type: Literal["final_answer"] = "final_answer"
    content: str = Field(description="The whole visible answer.")
    tokens_used: int = Field(description="Prompt plus completion tokens of every pass.")
    prompt_tokens: int
    completion_tokens: int
    processing_time: float = Field(description="Seconds from request to final answer.")
    conversation_id: str
    message_id: str = Field(description="Id of the stored assistant message.")
    model: str
    provider: str
    reasoning_steps: list[ReasoningStep] | None = Field(
        None, description="With deep_thinking_mode: every step streamed before."
    )
    raw_response: str | None = Field(
        None, description="With show_raw_response: the untouched model output."
    )
    citations: list[Citation] | None = Field(None, description="With use_rag: the excerpts.")


class Cancelled(_Event):
    type: Literal["cancelled"] = "cancelled"
    message: str = "Stream cancelled"


class ErrorEvent(_Event):
    """The WebSocket form of the error contract: the HTTP body's ``detail`` and
    ``error_code`` plus the reference's ``error``/``message`` (download events)."""

    type: Literal["error"] = "error"
    detail: str
    error_code: str
    error: str
    message: str

    @classmethod
    def of(cls, exc: BaseException) -> ErrorEvent:
        if isinstance(exc, AppError):
            detail, code = exc.detail, exc.error_code
        else:
            detail, code = "The stream failed; retry the request", "INTERNAL_ERROR"
        return cls(detail=detail, error_code=code, error=detail, message=detail)
