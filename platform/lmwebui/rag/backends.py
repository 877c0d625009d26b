"""The three RAG workers as async interfaces, in-process or behind Ray Serve handles.

The ingress only sees these protocols: ``LocalRagBackends`` runs the real objects in
worker threads (tests, a single process); ``lmwebui.rag.remote`` calls the Embedder,
Documents and Retriever deployments.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lmwebui.documents.types import ImageResult
from lmwebui.rag.types import (
    ChunkRecord,
    EmbedderInfo,
    Embeddings,
    ProcessedDocument,
    StoreHit,
    StoreQuery,
)
from lmwebui.rag_settings import RagSettings
from lmwebui.settings import Settings


class EmbedderClient(Protocol):
    async def embed(self, texts: list[str]) -> Embeddings: ...

    async def info(self) -> EmbedderInfo: ...


class DocumentsClient(Protocol):
    async def process(self, data: bytes, filename: str, chunk: bool) -> ProcessedDocument: ...

    async def image(self, data: bytes, filename: str) -> ImageResult: ...


class RetrieverClient(Protocol):
    async def insert(self, records: list[ChunkRecord]) -> int: ...

    async def delete_document(self, user_id: int, document_id: str) -> int: ...

    async def delete_user(self, user_id: int) -> int: ...

    async def search(self, query: StoreQuery) -> list[StoreHit]: ...

    async def count(self, user_id: int, document_id: str | None = None) -> int: ...


@dataclass
class RagBackends:
    embedder: EmbedderClient
    documents: DocumentsClient
    retriever: RetrieverClient
    close: Callable[[], None] | None = None


def milvus_uri(settings: Settings) -> str:
    """The configured Milvus URI, else the Milvus Lite file in the data dir."""
    return settings.rag.milvus_uri or str(Path(settings.data_dir) / "milvus.db")


def is_milvus_lite(uri: str) -> bool:
    return not uri.startswith(("http://", "https://", "tcp://", "unix:"))


class DocumentsWorker:
    """DocumentProcessor + Chunker: what the Documents deployment runs (synchronously)."""

    def __init__(self, settings: RagSettings, *, warm_up: bool = True) -> None:
        from lmwebui.documents.processor import DocumentProcessor
        from lmwebui.rag.chunking import Chunker
        from lmwebui.rag.embedder import TokenCounter

        self.settings = settings
        self.processor = DocumentProcessor(settings, warm_up=warm_up)
        tokenizer = TokenCounter(settings.embedding_model)
        # the model truncates past max_seq_length (minus [CLS]/[SEP]): chunks must fit
        size = min(settings.chunk_tokens, tokenizer.max_seq_length - 2)
        self.chunker = Chunker(tokenizer, size, min(settings.chunk_overlap_tokens, size // 2))

    def process(self, data: bytes, filename: str, chunk: bool) -> ProcessedDocument:
        from lmwebui.errors import PayloadTooLarge

        doc = self.processor.extract(data, filename)
        result = ProcessedDocument(doc)
        if chunk:
            result.chunks = self.chunker.chunk(doc.blocks, max_chunks=self.settings.max_chunks)
            if len(result.chunks) > self.settings.max_chunks:
                raise PayloadTooLarge(
                    f"The document has more than {self.settings.max_chunks} chunks"
                )
        return result

    def image(self, data: bytes, filename: str) -> ImageResult:
        return self.processor.image(data, filename)


class LocalEmbedder:
    def __init__(self, settings: RagSettings) -> None:
        from lmwebui.rag.embedder import SentenceEmbedder

        self.model = SentenceEmbedder(
            settings.embedding_model,
            device=settings.embedding_device,
            threads=settings.embedding_threads,
            batch_size=settings.embedding_batch_size,
        )

    async def embed(self, texts: list[str]) -> Embeddings:
        return await asyncio.to_thread(self.model.embed, texts)

    async def info(self) -> EmbedderInfo:
        return self.model.info()


class LocalDocuments:
    def __init__(self, worker: DocumentsWorker) -> None:
        self.worker = worker

    async def process(self, data: bytes, filename: str, chunk: bool) -> ProcessedDocument:
        return await asyncio.to_thread(self.worker.process, data, filename, chunk)

    async def image(self, data: bytes, filename: str) -> ImageResult:
        return await asyncio.to_thread(self.worker.image, data, filename)


class StoreRetriever:
    """RetrieverClient over a VectorStore, its blocking calls in worker threads."""

    def __init__(self, store: object) -> None:
        from lmwebui.rag.store import VectorStore

        self.store: VectorStore = store  # type: ignore[assignment]

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


def build_store(settings: Settings) -> object:
    from lmwebui.rag.store import MilvusStore

    rag = settings.rag
    uri = milvus_uri(settings)
    if is_milvus_lite(uri):
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    return MilvusStore(
        uri,
        collection=rag.collection,
        token=rag.milvus_token.get_secret_value() if rag.milvus_token else None,
        db_name=rag.milvus_db,
        partitions=rag.partitions,
        candidates=rag.search_candidates,
        rrf_k=rag.rrf_k,
    )


def build_local_backends(settings: Settings) -> RagBackends:
    """Everything in this process: the real model, docling, OCR and Milvus (Lite)."""
    store = build_store(settings)
    return RagBackends(
        embedder=LocalEmbedder(settings.rag),
        documents=LocalDocuments(DocumentsWorker(settings.rag)),
        retriever=StoreRetriever(store),
        close=store.close,  # type: ignore[attr-defined]
    )
