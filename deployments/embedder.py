"""Embedder deployment: sentence-transformers, requests from all callers batched together."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from ray import serve

from lmwebui.logging_setup import configure_logging
from lmwebui.rag.embedder import SentenceEmbedder
from lmwebui.rag.types import Embeddings
from lmwebui.settings import load_settings
from lmwebui.wire import to_wire

logger = logging.getLogger("lmwebui.deployments.embedder")


@serve.deployment(name="Embedder")
class Embedder:
    """``embed(texts)`` calls are merged by @serve.batch into one forward pass; each caller
    gets its own rows back."""

    def __init__(self, settings_overrides: dict[str, Any]) -> None:
        settings = load_settings(**settings_overrides)
        configure_logging(settings.log_level)
        rag = settings.rag
        # Ray sets OMP_NUM_THREADS=1 in workers without CPUs reserved: without an explicit
        # setting torch would use one core here where an in-process encode uses them all.
        self.model = SentenceEmbedder(
            rag.embedding_model,
            device=rag.embedding_device,
            threads=rag.embedding_threads or os.cpu_count() or 1,
            batch_size=rag.embedding_batch_size,
        )
        self.embed.set_max_batch_size(rag.embedding_batch_size)  # type: ignore[attr-defined]
        self.embed.set_batch_wait_timeout_s(rag.embedding_batch_wait_s)  # type: ignore[attr-defined]
        self.model.embed(["warm up"])
        logger.info("Embedder ready: %s (%d dims)", rag.embedding_model, self.model.dim)

    @serve.batch(max_batch_size=64, batch_wait_timeout_s=0.005)
    async def embed(self, requests: list[list[str]]) -> list[dict[str, Any]]:
        """Embeddings as plain data (lmwebui/wire.py): vectors stay a numpy array."""
        flat = [text for texts in requests for text in texts]
        result = await asyncio.to_thread(self.model.embed, flat)
        out, start = [], 0
        for texts in requests:
            end = start + len(texts)
            out.append(to_wire(Embeddings(result.vectors[start:end], result.tokens[start:end])))
            start = end
        return out

    async def info(self) -> dict[str, Any]:
        wire: dict[str, Any] = to_wire(self.model.info())
        return wire

    async def ready(self) -> bool:
        return True
