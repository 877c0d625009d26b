"""Retriever deployment: owns the vector store (Milvus Lite file or Milvus server)."""

from __future__ import annotations

import logging
from typing import Any

from ray import serve

from lmwebui.logging_setup import configure_logging
from lmwebui.rag.backends import StoreRetriever, build_store, milvus_uri
from lmwebui.rag.types import ChunkRecord, StoreQuery
from lmwebui.settings import load_settings
from lmwebui.wire import from_wire, to_wire

logger = logging.getLogger("lmwebui.deployments.retriever")


@serve.deployment(name="Retriever")
class Retriever:
    """One replica for a Milvus Lite file (it is locked to one process); any number for a
    Milvus server. Every call is scoped by user id inside the store's filter; the work is
    StoreRetriever's (the same object the in-process backends use), with arguments and
    results as plain data (lmwebui/wire.py)."""

    def __init__(self, settings_overrides: dict[str, Any]) -> None:
        settings = load_settings(**settings_overrides)
        configure_logging(settings.log_level)
        self.retriever = StoreRetriever(build_store(settings))
        self.store = self.retriever.store
        logger.info("Retriever ready: %s", milvus_uri(settings))

    async def insert(self, records: list[dict[str, Any]]) -> int:
        return await self.retriever.insert(from_wire(list[ChunkRecord], records))

    async def delete_document(self, user_id: int, document_id: str) -> int:
        return await self.retriever.delete_document(user_id, document_id)

    async def delete_user(self, user_id: int) -> int:
        return await self.retriever.delete_user(user_id)

    async def search(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        hits = await self.retriever.search(from_wire(StoreQuery, query))
        wire: list[dict[str, Any]] = to_wire(hits)
        return wire

    async def count(self, user_id: int, document_id: str | None = None) -> int:
        return await self.retriever.count(user_id, document_id)

    async def ready(self) -> bool:
        return True

    def __del__(self) -> None:
        store = getattr(self, "store", None)
        if store is not None:
            store.close()
