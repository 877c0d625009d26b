"""Plain data crossing deployment boundaries (pickled by Ray)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from lmwebui.documents.types import ExtractedDocument

SearchMode = Literal["hybrid", "dense", "bm25"]


@dataclass(frozen=True)
class Chunk:
    index: int
    text: str
    page: int | None
    heading: str
    tokens: int


@dataclass
class ProcessedDocument:
    document: ExtractedDocument
    chunks: list[Chunk] = field(default_factory=list)


@dataclass(frozen=True)
class EmbedderInfo:
    model: str
    dim: int
    max_seq_length: int


@dataclass
class Embeddings:
    vectors: Any  # numpy float32 array (n, dim), L2-normalised
    tokens: list[int]  # tokens per input, as the model saw them (truncated)


@dataclass(frozen=True)
class ChunkRecord:
    chunk_id: str
    user_id: int
    document_id: str
    conversation_id: str | None
    filename: str
    page: int | None
    chunk_index: int
    heading: str
    text: str
    tokens: int
    vector: Any  # sequence of floats


@dataclass(frozen=True)
class StoreQuery:
    user_id: int
    limit: int
    mode: SearchMode = "hybrid"
    text: str | None = None  # BM25 query (already lexically normalised)
    vector: Any = None  # dense query vector
    conversation_id: str | None = None
    exclude_documents: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoreHit:
    chunk_id: str
    document_id: str
    filename: str
    page: int | None
    chunk_index: int
    heading: str
    text: str
    score: float
    conversation_id: str | None = None
    tokens: int = 0
