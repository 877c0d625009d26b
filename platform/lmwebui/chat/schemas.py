"""The LM WebUI chat shapes: the request (REST and WebSocket `start_stream` data) and the
REST responses of chat and conversations."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from lmwebui.chat.events import Citation, FinalAnswer, ReasoningStep, Sparse

PROVIDER_ALIASES = {
    "gguf": "gguf",
    "llama.cpp": "gguf",
    "llamacpp": "gguf",
    "llama_cpp": "gguf",
    "local": "gguf",
    "openai": "openai",
    "vllm": "vllm",
}


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message: str = Field(
        min_length=1,
        description="The user's message (not only white space).",
        json_schema_extra={"pattern": r"\S"},
    )
    conversation_id: str | None = Field(
        None, max_length=40, description="Continue this conversation (must be the caller's)."
    )
    provider: str = Field(
        "gguf",
        description="gguf (llama.cpp), openai or vllm (any case).",
        json_schema_extra={"enum": list[JsonValue](sorted(PROVIDER_ALIASES))},
    )
    model: str | None = Field(None, max_length=255, description="Model id; default per provider.")
    temperature: float = Field(0.7, ge=0.0, le=2.0, description="Sampling temperature.")
    max_tokens: int | None = Field(None, ge=1, description="Most tokens in the answer.")
    use_rag: bool = Field(False, description="Ground the answer in the user's documents.")
    deep_thinking_mode: bool = Field(False, description="Stream reasoning steps first.")
    show_raw_response: bool = Field(False, description="Also return the untouched output.")
    system_prompt: str | None = Field(None, max_length=20_000, description="Extra system text.")

    @field_validator("provider")
    @classmethod
    def _provider(cls, value: str) -> str:
        key = value.strip().lower()
        if key not in PROVIDER_ALIASES:
            known = ", ".join(sorted(set(PROVIDER_ALIASES.values())))
            raise ValueError(f"unknown provider '{value}' (known: {known})")
        return PROVIDER_ALIASES[key]

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message must not be blank")
        return value


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatResponse(Sparse):
    """POST /api/chat: the reference's fields, plus ids, model and usage."""

    response: str = Field(description="The answer.")
    conversation_id: str
    tokens_used: int
    processing_time: float = Field(description="Seconds from request to answer.")
    message_id: str
    model: str
    provider: str
    usage: Usage
    reasoning_steps: list[ReasoningStep] | None = None
    raw_response: str | None = None
    citations: list[Citation] | None = None

    @classmethod
    def of(cls, final: FinalAnswer) -> ChatResponse:
        return cls(
            response=final.content,
            conversation_id=final.conversation_id,
            tokens_used=final.tokens_used,
            processing_time=final.processing_time,
            message_id=final.message_id,
            model=final.model,
            provider=final.provider,
            usage=Usage(
                prompt_tokens=final.prompt_tokens,
                completion_tokens=final.completion_tokens,
                total_tokens=final.tokens_used,
            ),
            reasoning_steps=final.reasoning_steps,
            raw_response=final.raw_response,
            citations=final.citations,
        )


class StreamStart(BaseModel):
    session_id: str
    websocket_url: str = Field(description="Where to open the socket that runs the turn.")


class ConversationSummary(BaseModel):
    id: str
    title: str
    created_at: str
    updated_at: str
    message_count: int
    model: str
    provider: str


class ConversationList(BaseModel):
    conversations: list[ConversationSummary]


class MessageOut(BaseModel):
    id: str
    role: str
    content: str
    timestamp: str
    model: str | None
    tokens: int | None = Field(description="Completion tokens (assistant) or prompt tokens.")


class ConversationDetail(BaseModel):
    id: str
    title: str
    created_at: str
    updated_at: str
    model: str
    provider: str
    messages: list[MessageOut]


class ConversationOut(BaseModel):
    conversation: ConversationDetail


class ProviderKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    api_key: str = Field(min_length=8, max_length=500, description="Upstream API key.")
    base_url: str | None = Field(
        None, max_length=500, pattern=r"^https?://", description="OpenAI-compatible base URL."
    )


class ProviderKeySet(BaseModel):
    provider: str
    key: str = Field(description="Masked: the key is never shown back.")
    base_url: str | None


class ProviderKeyOut(ProviderKeySet):
    created_at: str


class ProviderKeyList(BaseModel):
    keys: list[ProviderKeyOut]
