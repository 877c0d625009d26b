"""Builds the in-process GGUF engine (tests, plain uvicorn): same code the deployment runs."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from lmwebui.inference.chat_engine import GGUFChatEngine
from lmwebui.inference.loaded import EngineDefaults, LoadedModel, ModelPool, load_model
from lmwebui.models.files import ensure_bundled_model, resolve_model_path
from lmwebui.settings import Settings


def engine_defaults(settings: Settings) -> EngineDefaults:
    c = settings.chat
    return EngineDefaults(
        n_slots=c.n_slots,
        n_ctx_per_slot=c.n_ctx_per_slot,
        n_threads=c.n_threads,
        # one stream decoding alone scales poorly past half the cores, and the ingress,
        # Ray and the clients need the rest (loadtests/RESULTS.md: 79 → 87 tok/s here)
        n_threads_single=c.n_threads_single or max(1, (c.n_threads or os.cpu_count() or 1) // 2),
        n_gpu_layers=c.n_gpu_layers,
        flash_attn=c.flash_attn,
        deterministic=c.deterministic,
    )


def build_gguf_engine(settings: Settings) -> tuple[GGUFChatEngine, ModelPool]:
    models_dir: Path = settings.resolved_models_dir
    ensure_bundled_model(models_dir)
    defaults = engine_defaults(settings)

    async def loader(name: str) -> LoadedModel:
        path = resolve_model_path(models_dir, name)
        return await asyncio.to_thread(load_model, name, path, defaults)

    pool = ModelPool(loader, settings.chat.max_models_per_replica)
    return GGUFChatEngine(models_dir, pool.get, settings.chat.default_model), pool
