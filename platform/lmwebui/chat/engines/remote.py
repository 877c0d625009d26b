"""A ChatEngine that forwards to a Ray Serve deployment handle (ChatGGUF, ChatVLLM).

What crosses Ray is plain JSON-shaped data (docs/architecture.md, "What crosses Ray"): the
request as ``model_dump(mode="json")``, the chunks as lists of dicts (coalesced), validated
back into the protocol's models on this side.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from lmwebui.chat.engines.base import ChatEngine, EngineCapabilities
from lmwebui.chat.protocol import ChatCompletionChunk, ChatCompletionRequest, ModelCard
from lmwebui.chat.text_completion import TextCompletionRequest
from lmwebui.remote_errors import ray_errors

WHAT = "model replica"


class HandleChatEngine(ChatEngine):
    """Calls ``stream``/``models`` on a deployment. With ``multiplexed``, the (resolved)
    model id routes the request to replicas that hold the model."""

    def __init__(
        self,
        handle: Any,
        *,
        multiplexed: bool,
        capabilities: EngineCapabilities | None = None,
        resolve: Callable[[str | None], str] | None = None,
    ) -> None:
        self.handle = handle
        self.multiplexed = multiplexed
        self.capabilities = capabilities or EngineCapabilities()
        self._resolve = resolve

    def resolve_model(self, name: str | None) -> str:
        return self._resolve(name) if self._resolve else super().resolve_model(name)

    def stream(self, request: ChatCompletionRequest) -> AsyncIterator[ChatCompletionChunk]:
        return self._chunks("stream", request)

    def complete(self, request: TextCompletionRequest) -> AsyncIterator[ChatCompletionChunk]:
        return self._chunks("complete", request)

    async def _chunks(
        self, method: str, request: ChatCompletionRequest | TextCompletionRequest
    ) -> AsyncIterator[ChatCompletionChunk]:
        opts: dict[str, Any] = {"stream": True}
        if self.multiplexed:
            opts["multiplexed_model_id"] = request.model
        call = getattr(self.handle.options(**opts), method)
        gen = call.remote(request.model_dump(mode="json"))
        try:
            with ray_errors(WHAT):
                async for batch in gen:  # the deployment sends lists of chunks (coalesced)
                    for item in batch:
                        yield ChatCompletionChunk.model_validate(item)
        finally:
            # Stops generation on the replica when our consumer goes away (cancel/disconnect).
            # cancel() re-raises a failed assignment (e.g. BackPressureError): that error was
            # already mapped above and must not replace it.
            with contextlib.suppress(Exception):
                gen.cancel()

    async def models(self) -> list[ModelCard]:
        with ray_errors(WHAT):
            cards = await self.handle.models.remote()
        return [ModelCard.model_validate(c) for c in cards]
