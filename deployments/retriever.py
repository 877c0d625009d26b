"""Retriever deployment: owns the vector store (Milvus Lite file or Milvus server)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ray import serve

from lmwebui.logging_setup import configure_logging
from lmwebui.rag.backends import build_store, milvus_uri
from lmwebui.rag.store import VectorStore
from lmwebui.rag.types import ChunkRecord, StoreHit, StoreQuery
from lmwebui.settings import load_settings

logger = logging.getLogger("lmwebui.deployments.retriever")


@serve.deployment(name="Retriever")
class Retriever:
    """One replica for a Milvus Lite file (it is locked to one process); any number for a
    Milvus server. Every call is scoped by user id inside the store's filter."""

    def __init__(self, settings_overrides: dict[str, Any]) -> None:
        settings = load_settings(**settings_overrides)
        configure_logging(settings.log_level)
        self.store: VectorStore = build_store(settings)  # type: ignore[assignment]
        logger.info("Retriever ready: %s", milvus_uri(settings))

    async def insert(self, records: list[ChunkRecord]) -> int:
        return await asyncio.to_thread(self.store.insert, records)

    async def delete_document(self, user_id: int, document_id: str) -> int:
        return await asyncio.to_thread(self.store.delete_document, user_id, document_id)

    async def delete_user(self, user_id: int) -> int:
        return await asyncio.to_thread(self.store.delete_user, user_id)

    async def search(self, query: StoreQuery) -> list[StoreHit]:
        return await asyncio.to_thread(self.store.search, query)

    async def count(self, user_id: int, document_id: str | None = None) -> int:
        return await asyncio.to_thread(self.store.count, user_id, document_id)

    async def ready(self) -> bool:
        return True

    def __del__(self) -> None:
        store = getattr(self, "store", None)
        if store is not None:
            store.close()
