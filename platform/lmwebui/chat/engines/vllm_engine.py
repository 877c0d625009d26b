"""Provider ``vllm``: the vLLM app's OpenAI API (ray.serve.llm), reached over HTTP.

The vLLM replicas may run in another Python environment (deployments/chat_vllm.py), so the
ingress speaks to them in the one language both sides have: OpenAI's HTTP API through the
Serve proxy. Closing a stream closes its HTTP response: Serve cancels the request on the
replica and vLLM aborts it (tests/deployments/test_vllm_serve.py checks the engine's
running-request count). Model ids are listed as ``vllm/<id>`` so that a /v1 client can send
an id from /v1/models as it is (``providers.split_model``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import cast

import openai

from lmwebui.chat.engines.base import EngineCapabilities
from lmwebui.chat.engines.openai_engine import OpenAIChatEngine, map_openai_error
from lmwebui.chat.protocol import ChatCompletionChunk, ChatCompletionRequest, ModelCard
from lmwebui.errors import UpstreamError

PROVIDER = "vllm"
PREFIX = f"{PROVIDER}/"
LIST_TIMEOUT_S = 5.0
PROBE_TIMEOUT_S = 1.5  # within /api/health's 2 s per component
NOT_DEPLOYED = (404, 503)  # no route yet, or no replica to take it (deploying, restarting)


class VLLMChatEngine(OpenAIChatEngine):
    """``key``: the platform's own vLLM app requires it of every request (vllm_guard.py);
    None for a vLLM server elsewhere (``chat.vllm_base_url`` without ``vllm.models``)."""

    def __init__(
        self,
        base_url: str,
        timeout_s: float,
        capabilities: EngineCapabilities,
        key: str | None = None,
    ) -> None:
        super().__init__(base_url, key or "none", timeout_s, capabilities)

    def resolve_model(self, name: str | None) -> str:
        model = super().resolve_model(name)
        return model.removeprefix(PREFIX)

    async def stream(self, request: ChatCompletionRequest) -> AsyncIterator[ChatCompletionChunk]:
        """The upstream's chunks; a stream that ends before every choice has its
        finish_reason was cut (a replica died: Serve's proxy ends the response cleanly), so
        it is an error, never a short answer."""
        unfinished = set(range(request.n))
        upstream = cast(AsyncGenerator[ChatCompletionChunk, None], super().stream(request))
        async with contextlib.aclosing(upstream):  # closed now when our consumer stops
            async for chunk in upstream:
                unfinished -= {c.index for c in chunk.choices if c.finish_reason}
                yield chunk
        if unfinished:
            raise UpstreamError("The vLLM stream ended before the answer was complete")

    async def models(self) -> list[ModelCard]:
        """The app's models, asked with a short timeout: while the app deploys, Serve's
        proxy holds the request, and /v1/models must not wait the chat timeout for it."""
        try:
            page = await self.client.with_options(timeout=LIST_TIMEOUT_S).models.list()
        except openai.OpenAIError as exc:
            raise map_openai_error(exc) from exc
        return [
            ModelCard(
                id=PREFIX + m.id, created=m.created or 0, owned_by=m.owned_by, provider=PROVIDER
            )
            for m in page.data
        ]

    async def ready(self) -> bool:
        """/api/health's ``vllm`` component: the app lists its models. While the app
        deploys, or its replica is being replaced, the route answers 404 or 503: not ready
        yet. Anything else (unreachable, another status) is a failure, raised."""
        try:
            page = await self.client.with_options(timeout=PROBE_TIMEOUT_S).models.list()
        except openai.APIStatusError as exc:
            if exc.status_code in NOT_DEPLOYED:
                return False
            raise map_openai_error(exc) from exc
        except openai.OpenAIError as exc:
            raise map_openai_error(exc) from exc
        return bool(page.data)
