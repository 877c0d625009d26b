"""Retriever deployment: owns the vector store (Milvus Lite file or Milvus server)."""

from __future__ import annotations

import logging
from typing import Any

from ray import serve

from lmwebui.logging_setup import configure_logging
from lmwebui.rag.backends import StoreRetriever, build_store, milvus_uri
from lmwebui.settings import load_settings

logger = logging.getLogger("lmwebui.deployments.retriever")


@serve.deployment(name="Retriever")
class Retriever(StoreRetriever):
    """One replica for a Milvus Lite file (it is locked to one process); any number for a
    Milvus server. Every call is scoped by user id inside the store's filter; the calls are
    StoreRetriever's (the same object the in-process backends use)."""

    def __init__(self, settings_overrides: dict[str, Any]) -> None:
        settings = load_settings(**settings_overrides)
        configure_logging(settings.log_level)
        super().__init__(build_store(settings))
        logger.info("Retriever ready: %s", milvus_uri(settings))

    async def ready(self) -> bool:
        return True

    def __del__(self) -> None:
        store = getattr(self, "store", None)
        if store is not None:
            store.close()
