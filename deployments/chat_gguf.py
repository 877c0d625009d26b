"""ChatGGUF deployment: batched llama.cpp engines, GGUF files multiplexed per replica."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import ray
from ray import serve

from deployments.model_unload import unload_multiplexed
from lmwebui.chat.coalesce import coalesce
from lmwebui.chat.protocol import ChatCompletionRequest
from lmwebui.chat.text_completion import TextCompletionRequest
from lmwebui.errors import ModelNotFound
from lmwebui.inference.chat_engine import GGUFChatEngine
from lmwebui.inference.engine import EngineConfig
from lmwebui.inference.loaded import LoadedModel, load_model
from lmwebui.logging_setup import configure_logging
from lmwebui.metrics import RayMetrics, set_metrics
from lmwebui.models.files import ensure_bundled_model, resolve_model_path
from lmwebui.settings import load_settings

logger = logging.getLogger("lmwebui.deployments.chat_gguf")


@serve.deployment(name="ChatGGUF")
class ChatGGUF:
    """Each replica keeps up to ``chat.max_models_per_replica`` GGUF files loaded (LRU,
    through @serve.multiplexed, so requests for a model go to replicas that hold it)."""

    async def __init__(self, settings_overrides: dict[str, Any]) -> None:  # type: ignore[misc]
        settings = load_settings(**settings_overrides)
        configure_logging(settings.log_level)
        set_metrics(RayMetrics())
        models_dir = settings.resolved_models_dir
        await asyncio.to_thread(ensure_bundled_model, models_dir)
        # the engine options come from settings.chat; what only the replica knows is
        # whether Ray gave it a GPU: then it offloads every layer (unless set otherwise)
        offload = bool(ray.get_gpu_ids()) and settings.chat.n_gpu_layers == 0
        gpu = {"n_gpu_layers": -1} if offload else {}

        def engine_config(path: Path) -> EngineConfig:
            return EngineConfig.from_settings(settings.chat, str(path), **gpu)

        self._engine_config = engine_config

        async def load(model_id: str) -> LoadedModel:
            path = resolve_model_path(models_dir, model_id)
            model = await asyncio.to_thread(load_model, model_id, engine_config(path))
            if not path.exists():  # deleted while loading (a delete hides the file first)
                await asyncio.to_thread(model.close)
                raise ModelNotFound(f"Model '{model_id}' not found")
            return model

        self._get_model = serve.multiplexed(
            max_num_models_per_replica=settings.chat.max_models_per_replica
        )(load)
        self.engine = GGUFChatEngine(
            models_dir, self._get_model, settings.chat.default_model, settings.chat.n_ctx_per_slot
        )
        # Load the default model now: the replica is ready only once it can answer.
        await self._get_model(self.engine.resolve_model(None))
        self._gauges = asyncio.get_running_loop().create_task(self._export_gauges())

    async def _export_gauges(self) -> None:
        while True:
            self.engine.export_gauges()
            await asyncio.sleep(5)

    async def stream(self, request: dict[str, Any]) -> AsyncIterator[list[dict[str, Any]]]:
        """Yields lists of chunks: the backlog since the last item (see chat/coalesce.py).
        The request's model is the canonical id the caller resolved and routed by."""
        req = ChatCompletionRequest.model_validate(request)
        async for batch in coalesce(self.engine.stream(req)):
            yield [chunk.model_dump(mode="json", exclude_none=True) for chunk in batch]

    async def complete(self, request: dict[str, Any]) -> AsyncIterator[list[dict[str, Any]]]:
        """/v1/completions: like ``stream``, over raw prompts (no chat template)."""
        req = TextCompletionRequest.model_validate(request)
        async for batch in coalesce(self.engine.complete(req)):
            yield [chunk.model_dump(mode="json", exclude_none=True) for chunk in batch]

    async def models(self) -> list[dict[str, Any]]:
        return [c.model_dump(mode="json") for c in await self.engine.models()]

    async def ready(self) -> bool:
        return True

    async def unload(self, model_id: str) -> bool:
        """Drop a model from this replica (called on every replica before a delete)."""
        return await unload_multiplexed(self._get_model, self.engine.resolve_model(model_id))

    async def engine_config(self) -> dict[str, Any]:
        """Read-only: the engine options this replica loads every model with (operators:
        `serve.get_deployment_handle("ChatGGUF", "lmwebui").engine_config.remote()`)."""
        default = resolve_model_path(self.engine.models_dir, self.engine.default_model)
        return {
            "replica": serve.get_replica_context().replica_id.unique_id,
            "gpu_ids": [str(g) for g in ray.get_gpu_ids()],
            "config": dataclasses.asdict(self._engine_config(default)),
        }

    async def stats(self) -> dict[str, dict[str, int | float]]:
        return self.engine.stats()
