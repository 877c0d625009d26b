"""The one engine interface. Deployments take an engine instance (or class) by injection."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator

from lmwebui.chat.protocol import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ModelCard,
    aggregate,
)


class ChatEngine(ABC):
    """An engine answers OpenAI-shaped chat requests, streaming or not."""

    @abstractmethod
    def stream(self, request: ChatCompletionRequest) -> AsyncIterator[ChatCompletionChunk]:
        """Yield chunks; the last one carries ``usage`` and a ``finish_reason``.
        Closing the iterator early cancels generation."""

    async def complete(self, request: ChatCompletionRequest) -> ChatCompletionResponse:
        chunks = [chunk async for chunk in self.stream(request)]
        return aggregate(chunks, request.model)

    @abstractmethod
    async def models(self) -> list[ModelCard]:
        """Models this engine can serve now."""

    async def ready(self) -> bool:
        return True

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""
