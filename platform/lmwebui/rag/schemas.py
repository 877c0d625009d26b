"""The RAG shapes: /api/rag (ingest, search, documents), /api/upload results and the
OpenAI-compatible /v1/embeddings request and response."""

from __future__ import annotations

import base64
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lmwebui.chat.protocol import integral
from lmwebui.errors import ModelNotFound, ValidationFailed
from lmwebui.rag.types import EmbedderInfo, Embeddings, SearchMode, StoreHit
from lmwebui.rag_settings import RagSettings

NON_BLANK = r"\S"  # published: a text with something besides white space


class EmbeddingsRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)  # /v1: no coercion of types

    input: (
        Annotated[str, Field(json_schema_extra={"pattern": NON_BLANK})]
        | Annotated[
            list[Annotated[str, Field(json_schema_extra={"pattern": NON_BLANK})]],
            Field(min_length=1),
        ]
    ) = Field(description="Text or list of texts to embed (the bounds are in settings).")
    model: str = Field(min_length=1, max_length=255, description="The embedding model id.")
    encoding_format: Literal["float", "base64"] = Field("float", description="Vector format.")
    dimensions: int | None = Field(None, ge=1, description="Must equal the model's dimension.")
    user: str | None = Field(None, max_length=256, description="End-user id (ignored).")

    _integers = field_validator("dimensions", mode="before")(integral)

    def texts(self, settings: RagSettings) -> list[str]:
        texts = [self.input] if isinstance(self.input, str) else list(self.input)
        if not texts:
            raise ValidationFailed("input must not be empty")
        if len(texts) > settings.max_embedding_inputs:
            raise ValidationFailed(f"input has more than {settings.max_embedding_inputs} items")
        for i, text in enumerate(texts):
            if not text.strip():
                raise ValidationFailed(f"input[{i}] is empty")
            if len(text) > settings.max_embedding_input_chars:
                raise ValidationFailed(
                    f"input[{i}] is longer than {settings.max_embedding_input_chars} characters"
                )
        return texts

    def check_model(self, info: EmbedderInfo) -> None:
        wanted = self.model.strip().lower()
        names = {info.model.lower(), info.model.rsplit("/", 1)[-1].lower()}
        if wanted not in names:
            raise ModelNotFound(
                f"Embedding model '{self.model}' is not served here (available: {info.model})"
            )
        if self.dimensions is not None and self.dimensions != info.dim:
            raise ValidationFailed(f"dimensions must be {info.dim} for {info.model}")


class EmbeddingData(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str = Field(description="Floats, or base64 of little-endian f32.")


class EmbeddingsUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingsResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[EmbeddingData]
    model: str
    usage: EmbeddingsUsage


def embeddings_response(
    req: EmbeddingsRequest, info: EmbedderInfo, result: Embeddings
) -> EmbeddingsResponse:
    import numpy as np

    data: list[EmbeddingData] = []
    for i, vec in enumerate(result.vectors):
        embedding: list[float] | str
        if req.encoding_format == "base64":
            raw = np.asarray(vec, dtype="<f4").tobytes()
            embedding = base64.b64encode(raw).decode("ascii")
        else:
            embedding = [float(x) for x in vec]
        data.append(EmbeddingData(index=i, embedding=embedding))
    tokens = int(sum(result.tokens))
    return EmbeddingsResponse(
        data=data,
        model=info.model,
        usage=EmbeddingsUsage(prompt_tokens=tokens, total_tokens=tokens),
    )


# --- /api/rag -----------------------------------------------------------------------------


class RagIngestResult(BaseModel):
    document_id: str = Field(description="doc_…; what search hits and /documents name.")
    filename: str
    chunks_created: int = Field(description="Chunks embedded and indexed.")
    message: str = "Document ingested successfully"
    kind: str = Field(description="pdf, docx, pptx, html, markdown, text or image.")
    pages: int
    ocr_pages: list[int] = Field(description="1-based pages whose text came from OCR.")
    size_bytes: int
    conversation_id: str | None = Field(description="The conversation it is scoped to.")


class SearchHitMetadata(BaseModel):
    filename: str
    page: int | None = Field(description="1-based page, when the format has pages.")
    heading: str | None = Field(description="The section heading above the chunk.")
    chunk_index: int = Field(description="Position of the chunk in its document.")
    conversation_id: str | None


class SearchHit(BaseModel):
    document_id: str
    chunk_id: str
    content: str = Field(description="The chunk's text.")
    score: float = Field(description="Higher is better; the scale depends on the mode.")
    metadata: SearchHitMetadata

    @classmethod
    def of(cls, hit: StoreHit) -> SearchHit:
        return cls(
            document_id=hit.document_id,
            chunk_id=hit.chunk_id,
            content=hit.text,
            score=hit.score,
            metadata=SearchHitMetadata(
                filename=hit.filename,
                page=hit.page,
                heading=hit.heading or None,
                chunk_index=hit.chunk_index,
                conversation_id=hit.conversation_id,
            ),
        )


class SearchResults(BaseModel):
    results: list[SearchHit] = Field(description="Best first.")
    mode: SearchMode = Field(description="The retriever used.")


class DocumentOut(BaseModel):
    """One of the caller's ingested documents."""

    document_id: str
    filename: str
    kind: str = Field(description="pdf, docx, pptx, html, markdown, text or image.")
    content_type: str
    size_bytes: int
    pages: int
    chunks: int = Field(description="Chunks indexed (0 while pending).")
    status: str = Field(description="pending (being indexed) or ready (searchable).")
    conversation_id: str | None
    created_at: str = Field(description="ISO 8601, UTC.")
    updated_at: str = Field(description="ISO 8601, UTC.")


class DocumentList(BaseModel):
    documents: list[DocumentOut] = Field(description="Newest first.")


# --- /api/upload --------------------------------------------------------------------------


class ImageMetadata(BaseModel):
    width: int
    height: int
    format: str = Field(description="PNG, JPEG, ...")
    size_bytes: int


class ImageUpload(BaseModel):
    file_id: str = Field(description="img_…; nothing is kept on the server.")
    filename: str
    type: Literal["image"] = "image"
    data: str = Field(description="The image as a data: URL.")
    metadata: ImageMetadata
    ocr_text: str = Field(description="Text read from the image (empty when OCR is off).")


class DocumentMetadata(BaseModel):
    pages: int
    size_bytes: int
    truncated: bool = Field(description="Whether text was cut at rag.upload_text_chars.")
    kind: str = Field(description="pdf, docx, pptx, html, markdown, text or image.")
    content_type: str
    chars: int = Field(description="Length of the whole text, before any cut.")
    ocr_pages: list[int] = Field(description="1-based pages whose text came from OCR.")


class DocumentUpload(BaseModel):
    file_id: str = Field(description="doc_…; nothing is kept on the server.")
    filename: str
    type: Literal["document"] = "document"
    text: str = Field(description="The document as text (Markdown headings).")
    metadata: DocumentMetadata
