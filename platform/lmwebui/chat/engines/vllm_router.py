"""Provider ``vllm`` over the platform's vLLM apps, one model each (``VLLMSettings.apps``).

A model's app is its own Serve application behind its own route; this engine sends each
request to the app that serves its model, lists every app's model, and is ready when every
app is. A model no app serves is a 404 ``MODEL_NOT_FOUND`` before anything is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from typing import cast

from lmwebui.chat.engines.base import ChatEngine, EngineCapabilities
from lmwebui.chat.engines.vllm_engine import PREFIX, VLLMChatEngine
from lmwebui.chat.protocol import ChatCompletionChunk, ChatCompletionRequest, ModelCard
from lmwebui.chat.text_completion import TextCompletionRequest
from lmwebui.errors import ModelNotFound, UpstreamError, UpstreamTimeout

log = logging.getLogger(__name__)


class VLLMRouter(ChatEngine):
    """``routes``: model id → the engine of the app serving it (in the settings' order)."""

    def __init__(self, routes: dict[str, VLLMChatEngine], default_model: str | None) -> None:
        if not routes:
            raise ValueError("VLLMRouter needs at least one model")
        self.routes = routes
        known = [e.capabilities.context_tokens for e in routes.values()]
        self.capabilities = EngineCapabilities(
            default_model=default_model or next(iter(routes)),
            # the RAG window must fit whichever model answers: the smallest known one
            context_tokens=min((c for c in known if c), default=None),
        )

    def resolve_model(self, name: str | None) -> str:
        model = super().resolve_model(name).removeprefix(PREFIX)
        if model not in self.routes:
            served = ", ".join(PREFIX + m for m in self.routes)
            raise ModelNotFound(f"vLLM model '{model[:200]}' is not served here ({served})")
        return model

    def _engine(self, model: str) -> VLLMChatEngine:
        return self.routes[self.resolve_model(model)]

    async def stream(self, request: ChatCompletionRequest) -> AsyncIterator[ChatCompletionChunk]:
        async with contextlib.aclosing(
            _generator(self._engine(request.model).stream(request))
        ) as upstream:  # closing this stream closes the app's (vLLM aborts)
            async for chunk in upstream:
                yield chunk

    async def complete(self, request: TextCompletionRequest) -> AsyncIterator[ChatCompletionChunk]:
        async with contextlib.aclosing(
            _generator(self._engine(request.model).complete(request))
        ) as upstream:
            async for chunk in upstream:
                yield chunk

    async def models(self) -> list[ModelCard]:
        """Every app's model; an app that cannot answer now (still loading, its replica
        being replaced) is left out and logged rather than hiding the others."""
        listed = await asyncio.gather(
            *(engine.models() for engine in self.routes.values()), return_exceptions=True
        )
        cards: list[ModelCard] = []
        failures: list[BaseException] = []
        for model, result in zip(self.routes, listed, strict=True):
            if isinstance(result, UpstreamError | UpstreamTimeout):
                log.warning("vLLM app of %s lists no models: %s", model, result)
                failures.append(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                cards.extend(result)
        if failures and not cards:
            raise failures[0]
        return cards

    async def ready(self) -> bool:
        """/api/health's ``vllm`` component: every app lists its model (a failure of any
        is raised; one still deploying is not ready yet)."""
        states = await asyncio.gather(*(engine.ready() for engine in self.routes.values()))
        return all(states)

    async def close(self) -> None:
        for engine in self.routes.values():
            await engine.close()


def _generator(stream: AsyncIterator[ChatCompletionChunk]) -> AsyncGenerator[ChatCompletionChunk]:
    return cast(AsyncGenerator[ChatCompletionChunk], stream)
