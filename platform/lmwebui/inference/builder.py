"""Builds the in-process GGUF engine (tests, plain uvicorn): same code the deployment runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lmwebui.inference.chat_engine import GGUFChatEngine
from lmwebui.inference.engine import EngineConfig
from lmwebui.inference.loaded import LoadedModel, ModelPool, load_model
from lmwebui.models.files import ensure_bundled_model, resolve_model_path
from lmwebui.settings import Settings


def build_gguf_engine(settings: Settings) -> tuple[GGUFChatEngine, ModelPool]:
    models_dir: Path = settings.resolved_models_dir
    ensure_bundled_model(models_dir)

    async def loader(name: str) -> LoadedModel:
        config = EngineConfig.from_settings(
            settings.chat, str(resolve_model_path(models_dir, name))
        )
        return await asyncio.to_thread(load_model, name, config)

    pool = ModelPool(loader, settings.chat.max_models_per_replica)
    engine = GGUFChatEngine(
        models_dir, pool.get, settings.chat.default_model, settings.chat.n_ctx_per_slot
    )
    return engine, pool
