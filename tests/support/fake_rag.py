"""RAG workers without models: for chat-turn tests that need retrieval but not its quality.

``fake_rag_runtime(engine)`` is a Runtime whose RAG backends are:

- ``ParagraphDocuments``: plain-text files only, one chunk per paragraph (blank-line separated);
- ``WordEmbedder``: a bag of hashed words, L2-normalised (shared words ⇒ higher score);
- ``MemoryRetriever``: the chunks in a list, ranked by the dot product with the query vector,
  filtered like the Milvus store (user, conversation, excluded documents).

The real stack (embedding model, docling, Milvus Lite) is tests/support/rag.py.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import numpy as np

from lmwebui.api.services import Runtime
from lmwebui.chat.engines.base import ChatEngine
from lmwebui.documents.types import Block, ExtractedDocument, ImageResult
from lmwebui.errors import UnsupportedMediaType
from lmwebui.rag.backends import RagBackends
from lmwebui.rag.types import (
    Chunk,
    ChunkRecord,
    EmbedderInfo,
    Embeddings,
    ProcessedDocument,
    StoreHit,
    StoreQuery,
)
from lmwebui.settings import Settings

DIM = 256
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class WordEmbedder:
    async def embed(self, texts: list[str]) -> Embeddings:
        vectors = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in words(text):
                bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest())
                vectors[row, bucket % DIM] += 1.0
            norm = float(np.linalg.norm(vectors[row]))
            if norm:
                vectors[row] /= norm
        return Embeddings(vectors, [len(words(t)) for t in texts])

    async def info(self) -> EmbedderInfo:
        return EmbedderInfo(model="fake-words", dim=DIM, max_seq_length=512)


class ParagraphDocuments:
    async def process(self, data: bytes, filename: str, chunk: bool) -> ProcessedDocument:
        if not filename.endswith((".txt", ".md")):
            raise UnsupportedMediaType(f"{filename}: the fake documents worker reads text only")
        paragraphs = [p.strip() for p in data.decode().split("\n\n") if p.strip()]
        doc = ExtractedDocument(
            kind="text", mime="text/plain", blocks=[Block(p) for p in paragraphs], pages=0
        )
        chunks = [Chunk(i, p, None, "", len(p) // 3 + 1) for i, p in enumerate(paragraphs)]
        return ProcessedDocument(doc, chunks if chunk else [])

    async def image(self, data: bytes, filename: str) -> ImageResult:
        raise UnsupportedMediaType("the fake documents worker reads no images")


class MemoryRetriever:
    def __init__(self) -> None:
        self.records: list[ChunkRecord] = []

    async def insert(self, records: list[ChunkRecord]) -> int:
        self.records.extend(records)
        return len(records)

    async def delete_document(self, user_id: int, document_id: str) -> int:
        before = len(self.records)
        self.records = [
            r for r in self.records if not (r.user_id == user_id and r.document_id == document_id)
        ]
        return before - len(self.records)

    async def delete_user(self, user_id: int) -> int:
        before = len(self.records)
        self.records = [r for r in self.records if r.user_id != user_id]
        return before - len(self.records)

    async def count(self, user_id: int, document_id: str | None = None) -> int:
        return sum(
            1 for r in self.records if r.user_id == user_id and document_id in (None, r.document_id)
        )

    async def search(self, query: StoreQuery) -> list[StoreHit]:
        query_vector = np.asarray(query.vector if query.vector is not None else [], np.float32)
        scored: list[tuple[float, ChunkRecord]] = []
        for r in self.records:
            if r.user_id != query.user_id or r.document_id in query.exclude_documents:
                continue
            if query.conversation_id is not None and r.conversation_id != query.conversation_id:
                continue
            score = float(np.dot(np.asarray(r.vector, np.float32), query_vector))
            scored.append((score, r))
        scored.sort(key=lambda item: (-item[0], item[1].chunk_id))
        return [_hit(score, r) for score, r in scored[: query.limit]]


def _hit(score: float, r: ChunkRecord) -> StoreHit:
    return StoreHit(
        chunk_id=r.chunk_id,
        document_id=r.document_id,
        filename=r.filename,
        page=r.page,
        chunk_index=r.chunk_index,
        heading=r.heading,
        text=r.text,
        score=score,
        conversation_id=r.conversation_id,
        tokens=r.tokens,
    )


def fake_rag_runtime(engines: dict[str, ChatEngine], **runtime_kwargs: Any) -> Runtime:
    """Chat engines plus the fake RAG workers (a fresh store per app)."""

    def rag(_settings: Settings) -> RagBackends:
        return RagBackends(WordEmbedder(), ParagraphDocuments(), MemoryRetriever())

    return Runtime(chat_engines=lambda _settings: dict(engines), rag=rag, **runtime_kwargs)
