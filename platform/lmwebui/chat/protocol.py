"""The internal chat protocol: OpenAI chat-completions shapes (request, chunk, response).

Every engine (llama.cpp, vLLM, an upstream OpenAI-compatible API) speaks this; the ingress
translates the LM WebUI request into it. Objects cross Ray as plain dicts (model_dump()).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.config import JsonDict

from lmwebui.chat.logprobs import ChoiceLogprobs
from lmwebui.chat.params import (
    MAX_CHOICES,
    MAX_STOP,
    REFUSED_CHAT_PARAMS,
    content_text,
    refuse_if_set,
    stop_list,
)

Role = Literal["system", "user", "assistant", "tool"]


def integral(value: Any) -> Any:
    """An integer of a strict /v1 body (a before-validator): never a string or a boolean,
    but JSON's ``2.0`` is the integer 2 (so says JSON Schema)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class ToolCallFunction(BaseModel):
    name: str = Field(description="Function name.")
    arguments: str = Field(description="The arguments, a JSON object as a string.")


class ToolCall(BaseModel):
    id: str = Field(description="Call id (tool messages answer it by tool_call_id).")
    type: Literal["function"] = Field("function", description="Always 'function'.")
    function: ToolCallFunction = Field(description="The function called.")


class FunctionSpec(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="Function name.")
    description: str | None = Field(None, description="What the function does.")
    parameters: dict[str, Any] | None = Field(
        None, description="JSON schema of the arguments (an object; none: no arguments)."
    )
    strict: bool | None = Field(None, description="Arguments always follow the schema here.")


class ToolSpec(BaseModel):
    type: Literal["function"] = Field(description="Always 'function'.")
    function: FunctionSpec = Field(description="The function the model may call.")


class NamedFunction(BaseModel):
    name: str = Field(description="The function that must be called.")


class NamedToolChoice(BaseModel):
    type: Literal["function"] = Field(description="Always 'function'.")
    function: NamedFunction = Field(description="The function that must be called.")


class JsonSchemaSpec(BaseModel):
    model_config = ConfigDict(
        validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="Name of the format.")
    description: str | None = Field(None, description="What the answer is.")
    schema_: dict[str, Any] = Field(alias="schema", description="JSON schema of the answer.")
    strict: bool | None = Field(None, description="The answer always follows the schema here.")


class ResponseFormat(BaseModel):
    type: Literal["text", "json_object", "json_schema"] = Field(description="Answer format.")
    json_schema: JsonSchemaSpec | None = Field(None, description="For type json_schema.")

    @model_validator(mode="after")
    def _schema_given(self) -> ResponseFormat:
        if (self.type == "json_schema") != (self.json_schema is not None):
            raise ValueError("json_schema is required with (and only with) type json_schema")
        return self


ToolChoice = Literal["none", "auto", "required"] | NamedToolChoice


class StreamOptions(BaseModel):
    include_usage: bool = Field(
        False, description="Send usage in a final chunk whose choices are empty."
    )


class ChatMessage(BaseModel):
    # strict: a /v1 body's types are what the schema says (a number is not a string)
    model_config = ConfigDict(extra="ignore", strict=True)

    role: Role = Field(description="Author of the message.")
    content: str = Field(
        "",
        description="Message text: a string or OpenAI's list of parts (text parts are "
        "joined; image parts are refused).",
    )
    tool_calls: list[ToolCall] | None = Field(
        None, description="The tool calls an assistant message made (in the history)."
    )
    tool_call_id: str | None = Field(None, description="The call a tool message answers.")
    name: str | None = Field(None, description="Author name (a tool message: the function).")

    @field_validator("content", mode="before")
    @classmethod
    def _content_text(cls, value: Any) -> Any:
        return content_text(value)


# published: what _stop_count and _logit_bias below check
STOPS_SCHEMA: JsonDict = {"type": "array", "items": {"type": "string"}, "maxItems": MAX_STOP}
LOGIT_BIAS_SCHEMA: JsonDict = {
    "type": "object",
    "propertyNames": {"pattern": "^[0-9]+$"},
    "additionalProperties": {"type": "number", "minimum": -100, "maximum": 100},
}


class SamplingRequest(BaseModel):
    """What /v1/chat/completions and /v1/completions share: sampling, stop strings,
    streaming and the caller. Strict: ``"stream": 0`` or ``"seed": "5"`` is a 400, not
    coerced (an integer is still a number)."""

    model_config = ConfigDict(extra="ignore", strict=True)

    temperature: float = Field(0.7, ge=0.0, le=2.0, description="Sampling temperature.")
    top_p: float = Field(
        0.95,
        gt=0.0,
        le=1.0,
        description="Nucleus sampling mass; unset: 0.95 on GGUF models, the engine's own "
        "default (1) on vLLM and upstream providers.",
    )
    stop: list[str] | str | None = Field(
        None,
        description=f"Stop strings (at most {MAX_STOP}).",
        json_schema_extra={"anyOf": [STOPS_SCHEMA, {"type": "string"}, {"type": "null"}]},
    )
    seed: int | None = Field(None, ge=0, lt=2**32, description="Sampling seed.")
    presence_penalty: float = Field(0.0, ge=-2.0, le=2.0, description="Penalty per seen token.")
    frequency_penalty: float = Field(0.0, ge=-2.0, le=2.0, description="Penalty per repeat.")
    logit_bias: dict[str, float] | None = Field(
        None,
        description="Token id -> bias in [-100, 100] added to its logit.",
        json_schema_extra={"anyOf": [LOGIT_BIAS_SCHEMA, {"type": "null"}]},
    )
    stream: bool = Field(False, description="Stream chunks (SSE).")
    stream_options: StreamOptions | None = Field(None, description="Streaming options.")
    user: str | None = Field(None, description="End-user id; also the cache-affinity key.")

    @field_validator("stop")
    @classmethod
    def _stop_count(cls, value: list[str] | str | None) -> list[str] | str | None:
        if isinstance(value, list) and len(value) > MAX_STOP:
            raise ValueError(f"at most {MAX_STOP} stop strings")
        return value

    @field_validator("logit_bias")
    @classmethod
    def _logit_bias(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        for token, bias in (value or {}).items():
            if not token.isdigit() or not -100 <= bias <= 100:
                raise ValueError("keys are token ids, values biases in [-100, 100]")
        return value

    def stop_list(self) -> list[str]:
        return stop_list(self.stop)


class ChatCompletionRequest(SamplingRequest):
    """Subset of OpenAI's request that the platform honours (strict, as SamplingRequest)."""

    model: str = Field(description="Model id (a GGUF file name for the GGUF engine).")
    messages: list[ChatMessage] = Field(min_length=1, description="The conversation so far.")
    max_tokens: int | None = Field(None, ge=1, description="Most tokens to generate.")
    max_completion_tokens: int | None = Field(
        None, ge=1, description="Most tokens to generate (OpenAI's newer name; wins)."
    )
    n: int = Field(1, ge=1, le=MAX_CHOICES, description="Choices to generate.")
    logprobs: bool = Field(False, description="Return each output token's log probability.")
    top_logprobs: int | None = Field(
        None, ge=0, le=20, description="Likeliest alternatives per token (needs logprobs)."
    )
    response_format: ResponseFormat | None = Field(
        None, description="text, json_object or json_schema (grammar-enforced on GGUF)."
    )
    tools: list[ToolSpec] | None = Field(
        None, max_length=64, description="Functions the model may call."
    )
    tool_choice: ToolChoice | None = Field(
        None, description="none, auto (default with tools), required, or a named function."
    )
    parallel_tool_calls: bool | None = Field(
        None, description="GGUF: at most one call is produced either way."
    )
    # documented by OpenAI, honoured by no engine here: set, they are a 400 naming them
    audio: Any = Field(None, description="Refused (400).")
    modalities: Any = Field(None, description="Refused (400) unless ['text'].")
    prediction: Any = Field(None, description="Refused (400).")
    web_search_options: Any = Field(None, description="Refused (400).")
    functions: Any = Field(None, description="Refused (400): use tools.")
    function_call: Any = Field(None, description="Refused (400): use tool_choice.")

    @field_validator(*REFUSED_CHAT_PARAMS, mode="before")
    @classmethod
    def _refused(cls, value: Any, info: Any) -> Any:
        return refuse_if_set(info.field_name, value, REFUSED_CHAT_PARAMS)

    _integers = field_validator(
        "max_tokens", "max_completion_tokens", "seed", "n", "top_logprobs", mode="before"
    )(integral)

    @model_validator(mode="after")
    def _tool_choice_known(self) -> ChatCompletionRequest:
        names = [t.function.name for t in self.tools or []]
        choice = self.tool_choice
        if choice == "required" and not names:
            raise ValueError("tool_choice 'required' needs tools")
        if isinstance(choice, NamedToolChoice) and choice.function.name not in names:
            raise ValueError(f"tool_choice names {choice.function.name!r}, which is not in tools")
        return self

    @model_validator(mode="after")
    def _top_needs_logprobs(self) -> ChatCompletionRequest:
        if self.top_logprobs is not None and not self.logprobs:
            raise ValueError("top_logprobs requires logprobs to be true")
        return self

    @model_validator(mode="after")
    def _newest_limit_wins(self) -> ChatCompletionRequest:
        if self.max_completion_tokens is not None:
            self.max_tokens = self.max_completion_tokens
        return self


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    prompt_tokens_details: dict[str, int] | None = None


class FunctionDelta(BaseModel):
    name: str | None = None
    arguments: str | None = None


class ToolCallDelta(BaseModel):
    """A piece of a streamed tool call: the first carries id, type and name; the rest
    carry fragments of the arguments (OpenAI's shape)."""

    index: int = 0
    id: str | None = None
    type: Literal["function"] | None = None
    function: FunctionDelta


class ChunkDelta(BaseModel):
    role: str | None = None
    content: str | None = None
    tool_calls: list[ToolCallDelta] | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: ChunkDelta
    logprobs: ChoiceLogprobs | None = None
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
    logprobs: ChoiceLogprobs | None = None
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
