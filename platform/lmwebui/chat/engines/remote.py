"""A ChatEngine that forwards to a Ray Serve deployment handle (ChatGGUF, ChatVLLM)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from lmwebui.chat.engines.base import ChatEngine
from lmwebui.chat.protocol import ChatCompletionChunk, ChatCompletionRequest, ModelCard
from lmwebui.errors import AppError
from lmwebui.remote_errors import unwrap_ray_error

WHAT = "model replica"


class HandleChatEngine(ChatEngine):
    """Calls ``stream``/``models``/``ready`` on a deployment; GGUF model ids multiplex."""

    def __init__(self, handle: Any, *, multiplexed: bool) -> None:
        self.handle = handle
        self.multiplexed = multiplexed

    async def stream(self, request: ChatCompletionRequest) -> AsyncIterator[ChatCompletionChunk]:
        opts: dict[str, Any] = {"stream": True}
        if self.multiplexed and request.model:
            opts["multiplexed_model_id"] = request.model
        gen = self.handle.options(**opts).stream.remote(request.model_dump(mode="json"))
        try:
            async for batch in gen:  # the deployment sends lists of chunks (coalesced)
                for item in batch:
                    yield ChatCompletionChunk.model_validate(item)
        except AppError:
            raise
        except Exception as exc:
            unwrapped = unwrap_ray_error(exc, WHAT)
            if unwrapped is exc:
                raise
            raise unwrapped from None
        finally:
            # Stops generation on the replica when our consumer goes away (cancel/disconnect).
            # cancel() re-raises a failed assignment (e.g. BackPressureError): that error was
            # already mapped above and must not replace it.
            with contextlib.suppress(Exception):
                gen.cancel()

    async def models(self) -> list[ModelCard]:
        try:
            cards = await self.handle.models.remote()
        except Exception as exc:
            raise unwrap_ray_error(exc, WHAT) from None
        return [ModelCard.model_validate(c) for c in cards]

    async def ready(self) -> bool:
        return bool(await self.handle.ready.remote())
