"""RAG backends that call the Embedder, Documents and Retriever Serve deployments.

Arguments and results cross Ray as plain data (lmwebui/wire.py) and are typed again here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from lmwebui.documents.types import ImageResult
from lmwebui.rag.backends import RagBackends
from lmwebui.rag.types import (
    ChunkRecord,
    EmbedderInfo,
    Embeddings,
    ProcessedDocument,
    StoreHit,
    StoreQuery,
)
from lmwebui.remote_errors import ray_errors
from lmwebui.wire import from_wire, to_wire

T = TypeVar("T")


async def _call(call: Awaitable[T], worker: str) -> T:
    with ray_errors(f"{worker} worker", retry_after="2"):
        return await call


class HandleEmbedder:
    def __init__(self, handle: Any) -> None:
        self.handle = handle

    async def embed(self, texts: list[str]) -> Embeddings:
        return from_wire(Embeddings, await _call(self.handle.embed.remote(texts), "embedding"))

    async def info(self) -> EmbedderInfo:
        return from_wire(EmbedderInfo, await _call(self.handle.info.remote(), "embedding"))


class HandleDocuments:
    def __init__(self, handle: Any) -> None:
        self.handle = handle

    async def process(self, data: bytes, filename: str, chunk: bool) -> ProcessedDocument:
        result = await _call(self.handle.process.remote(data, filename, chunk), "documents")
        return from_wire(ProcessedDocument, result)

    async def image(self, data: bytes, filename: str) -> ImageResult:
        result = await _call(self.handle.image.remote(data, filename), "documents")
        return from_wire(ImageResult, result)


class HandleRetriever:
    def __init__(self, handle: Any) -> None:
        self.handle = handle

    async def insert(self, records: list[ChunkRecord]) -> int:
        return int(await _call(self.handle.insert.remote(to_wire(records)), "retriever"))

    async def delete_document(self, user_id: int, document_id: str) -> int:
        return int(
            await _call(self.handle.delete_document.remote(user_id, document_id), "retriever")
        )

    async def delete_user(self, user_id: int) -> int:
        return int(await _call(self.handle.delete_user.remote(user_id), "retriever"))

    async def search(self, query: StoreQuery) -> list[StoreHit]:
        result = await _call(self.handle.search.remote(to_wire(query)), "retriever")
        return from_wire(list[StoreHit], result)

    async def count(self, user_id: int, document_id: str | None = None) -> int:
        return int(await _call(self.handle.count.remote(user_id, document_id), "retriever"))


def handle_backends(handles: dict[str, Any]) -> RagBackends:
    return RagBackends(
        embedder=HandleEmbedder(handles["Embedder"]),
        documents=HandleDocuments(handles["Documents"]),
        retriever=HandleRetriever(handles["Retriever"]),
    )


def rag_runtime(handles: dict[str, Any]) -> Callable[[Any], RagBackends] | None:
    """Runtime.rag for the ingress: the handle backends when all three are deployed."""
    if not all(name in handles for name in ("Embedder", "Documents", "Retriever")):
        return None
    backends = handle_backends(handles)
    return lambda _settings: backends
