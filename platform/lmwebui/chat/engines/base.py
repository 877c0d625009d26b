"""The one engine interface. Deployments take an engine instance (or class) by injection."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass

from lmwebui.chat.protocol import ChatCompletionChunk, ChatCompletionRequest, ModelCard
from lmwebui.chat.text_completion import TextCompletionRequest
from lmwebui.errors import ValidationFailed


@dataclass(frozen=True)
class EngineCapabilities:
    """What an engine can do, known once at start-up (never probed per turn)."""

    default_model: str | None = None
    # The model writes its own <think>…</think> reasoning: deep thinking needs no extra pass.
    native_reasoning: bool = False
    # Tokens one sequence may hold (prompt + answer); None when the engine does not say.
    context_tokens: int | None = None
    # OpenAI request parameters this engine cannot honour: a request that sets one is a 400
    # naming it (chat/service.py), never a silent drop.
    refused_params: frozenset[str] = frozenset()


class ChatEngine(ABC):
    """An engine answers OpenAI-shaped chat requests as a stream of chunks."""

    capabilities: EngineCapabilities = EngineCapabilities()

    def resolve_model(self, name: str | None) -> str:
        """The canonical id of ``name`` (the default model when None). Callers resolve once,
        before routing, and send the result as ``request.model``."""
        model = name or self.capabilities.default_model
        if not model:
            raise ValidationFailed("This provider needs a model name")
        return model

    @abstractmethod
    def stream(self, request: ChatCompletionRequest) -> AsyncIterator[ChatCompletionChunk]:
        """Yield chunks for ``request`` (whose model is already resolved); the last one
        carries ``usage`` and a ``finish_reason``. Closing the iterator early cancels
        generation."""

    def complete(self, request: TextCompletionRequest) -> AsyncIterator[ChatCompletionChunk]:
        """/v1/completions: the raw prompts (no chat template) as chunks whose choice index is
        prompt x n + choice. Engines without a raw-prompt path refuse it."""
        raise ValidationFailed("This provider does not serve /v1/completions")

    @abstractmethod
    async def models(self) -> list[ModelCard]:
        """Models this engine can serve now."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""
