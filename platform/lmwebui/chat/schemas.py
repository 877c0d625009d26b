"""The LM WebUI chat request (REST and WebSocket `start_stream` data)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

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

    message: str = Field(min_length=1, description="The user's message.")
    conversation_id: str | None = Field(
        None, max_length=40, description="Continue this conversation (must be the caller's)."
    )
    provider: str = Field("gguf", description="gguf (llama.cpp), openai or vllm.")
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
