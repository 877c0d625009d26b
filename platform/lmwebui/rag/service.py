"""RagService: ingest, search, manage documents; what the routers and chat call.

Ingest is all-or-nothing: the document's row is ``pending`` while its chunks are embedded
and written (one store insert), and turns ``ready`` only afterwards; any failure removes the
chunks and the row. Searches are filtered by user id inside the store and see only ready
documents (pending/deleting ones are excluded in the filter, and hits are re-checked).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from typing import Protocol

from lmwebui.errors import AppError, NotFound, ServiceUnavailable, ValidationFailed
from lmwebui.metrics import get_metrics
from lmwebui.rag.backends import RagBackends
from lmwebui.rag.lexical import has_terms, lexical_text
from lmwebui.rag.registry import DocumentRegistry, NewDocument, new_document_id
from lmwebui.rag.schemas import (
    DocumentMetadata,
    DocumentOut,
    DocumentUpload,
    EmbeddingsRequest,
    EmbeddingsResponse,
    ImageMetadata,
    ImageUpload,
    RagIngestResult,
    embeddings_response,
)
from lmwebui.rag.types import Chunk, ChunkRecord, Embeddings, SearchMode, StoreHit, StoreQuery
from lmwebui.rag_settings import RagSettings

logger = logging.getLogger("lmwebui.rag")
EMBED_CONCURRENCY = 4


class ConversationAccess(Protocol):
    async def ensure_access(self, user_id: int, conversation_id: str) -> None: ...


class RagService:
    def __init__(
        self,
        backends: RagBackends,
        registry: DocumentRegistry,
        conversations: ConversationAccess,
        settings: RagSettings,
    ) -> None:
        self.backends = backends
        self.registry = registry
        self.conversations = conversations
        self.settings = settings
        self._sweeper: asyncio.Task[None] | None = None
        self.uploads = UploadProcessing(self)

    # -- ingest -------------------------------------------------------------------------
    async def ingest(
        self, user_id: int, filename: str, data: bytes, conversation_id: str | None = None
    ) -> RagIngestResult:
        if conversation_id:
            await self.conversations.ensure_access(user_id, conversation_id)
        started = time.perf_counter()
        processed = await self.backends.documents.process(data, filename, True)
        doc, chunks = processed.document, processed.chunks
        if not chunks:
            hint = " (the pages need OCR, which is off)" if not self.settings.ocr_enabled else ""
            raise ValidationFailed(f"No text could be extracted from {filename!r}{hint}")
        new = NewDocument(
            id=new_document_id(),
            user_id=user_id,
            conversation_id=conversation_id,
            filename=filename,
            kind=doc.kind,
            content_type=doc.mime,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            pages=doc.pages,
        )
        await self.registry.create(new)
        await self._index(new, chunks)
        logger.info(
            "ingested %s user=%d kind=%s pages=%d chunks=%d ocr_pages=%d",
            new.id,
            user_id,
            doc.kind,
            doc.pages,
            len(chunks),
            len(doc.ocr_pages),
        )
        metrics = get_metrics()
        metrics.observe(
            "lmwebui_rag_ingest_seconds", time.perf_counter() - started, {"kind": doc.kind}
        )
        metrics.inc("lmwebui_rag_chunks_stored_total", len(chunks))
        return RagIngestResult(
            document_id=new.id,
            filename=filename,
            chunks_created=len(chunks),
            kind=doc.kind,
            pages=doc.pages,
            ocr_pages=doc.ocr_pages,
            size_bytes=len(data),
            conversation_id=conversation_id,
        )

    async def _index(self, doc: NewDocument, chunks: list[Chunk]) -> None:
        """Embed and store the chunks of the pending row ``doc``, then mark it ready; on any
        failure remove what was stored and the row."""
        try:
            embeddings = await self.embed_all([c.text for c in chunks])
            records = [
                ChunkRecord(
                    chunk_id=f"{doc.id}_c{c.index}",
                    user_id=doc.user_id,
                    document_id=doc.id,
                    conversation_id=doc.conversation_id,
                    filename=doc.filename,
                    page=c.page,
                    chunk_index=c.index,
                    heading=c.heading,
                    text=c.text,
                    tokens=c.tokens,
                    vector=vec,
                )
                for c, vec in zip(chunks, embeddings.vectors, strict=True)
            ]
            await self.backends.retriever.insert(records)
            if not await self.registry.mark_ready(doc.id, len(records)):
                raise NotFound("The document was deleted while it was being ingested")
        except BaseException as exc:
            await asyncio.shield(self._rollback(doc.user_id, doc.id))
            if isinstance(exc, AppError | asyncio.CancelledError) or not isinstance(exc, Exception):
                raise
            logger.exception("ingest of %s failed; rolled back", doc.id)
            raise ServiceUnavailable(
                "Indexing the document failed and nothing was stored; retry the upload"
            ) from None

    async def embeddings(self, req: EmbeddingsRequest) -> EmbeddingsResponse:
        """/v1/embeddings: validated against the served model, embedded in batches."""
        texts = req.texts(self.settings)
        info = await self.backends.embedder.info()
        req.check_model(info)
        return embeddings_response(req, info, await self.embed_all(texts))

    async def embed_all(self, texts: list[str]) -> Embeddings:
        """Batches sent concurrently (the Embedder's @serve.batch merges them)."""
        import numpy as np

        size = self.settings.embedding_batch_size
        gate = asyncio.Semaphore(EMBED_CONCURRENCY)

        async def one(batch: list[str]) -> Embeddings:
            async with gate:
                return await self.backends.embedder.embed(batch)

        parts = await asyncio.gather(
            *(one(texts[i : i + size]) for i in range(0, len(texts), size))
        )
        if not parts:
            return Embeddings(np.zeros((0, 0), dtype=np.float32), [])
        return Embeddings(
            np.concatenate([p.vectors for p in parts]), [t for p in parts for t in p.tokens]
        )

    async def _rollback(self, user_id: int, doc_id: str) -> None:
        try:
            await self.registry.mark_deleting(doc_id)
            await self.backends.retriever.delete_document(user_id, doc_id)
            await self.registry.remove(doc_id)
        except Exception:
            logger.exception("rollback of %s incomplete; the sweeper will finish it", doc_id)

    # -- search -------------------------------------------------------------------------
    async def search(
        self,
        user_id: int,
        query: str,
        limit: int = 10,
        conversation_id: str | None = None,
        mode: SearchMode = "hybrid",
    ) -> list[StoreHit]:
        query = query.strip()
        if not query:
            raise ValidationFailed("query must not be empty")
        if len(query) > self.settings.max_query_chars:
            raise ValidationFailed(
                f"query is too long (limit {self.settings.max_query_chars} characters)"
            )
        if not 1 <= limit <= self.settings.max_search_limit:
            raise ValidationFailed(f"limit must be between 1 and {self.settings.max_search_limit}")
        if conversation_id:
            await self.conversations.ensure_access(user_id, conversation_id)
        has_docs, in_conversation, excluded = await self.registry.search_scope(
            user_id, conversation_id
        )
        if not has_docs:
            return []
        if mode == "bm25" and not has_terms(query):
            return []
        started = time.perf_counter()
        vector = None
        if mode != "bm25":
            vector = (await self.backends.embedder.embed([query])).vectors[0].tolist()
        hits = await self.backends.retriever.search(
            StoreQuery(
                user_id=user_id,
                limit=limit,
                mode=mode,
                text=lexical_text(query) if has_terms(query) else None,
                vector=vector,
                conversation_id=conversation_id if in_conversation else None,
                exclude_documents=tuple(excluded),
            )
        )
        ready = await self.registry.ready_ids(user_id, {h.document_id for h in hits})
        get_metrics().observe("lmwebui_rag_search_seconds", time.perf_counter() - started)
        return [h for h in hits if h.document_id in ready]

    # -- management ---------------------------------------------------------------------
    async def list_documents(
        self, user_id: int, offset: int, limit: int, conversation_id: str | None = None
    ) -> tuple[list[DocumentOut], int]:
        """The caller's documents (newest first) from ``offset``, and how many there are."""
        return await self.registry.list_page(user_id, offset, limit, conversation_id)

    async def get_document(self, user_id: int, doc_id: str) -> DocumentOut:
        doc = await self.registry.get(user_id, doc_id)
        if doc is None:
            raise NotFound("Document not found")
        return doc

    async def delete_document(self, user_id: int, doc_id: str) -> None:
        """Chunks first, then the row; the row is invisible to searches from the start."""
        if not await self.registry.claim_for_delete(user_id, doc_id):
            raise NotFound("Document not found")
        await self.backends.retriever.delete_document(user_id, doc_id)
        await self.registry.remove(doc_id)

    async def purge_user(self, user_id: int) -> None:
        """Everything of a user, before the account row goes (its id may be reused)."""
        await self.registry.mark_user_deleting(user_id)
        await self.backends.retriever.delete_user(user_id)
        await self.registry.remove_user_documents(user_id)

    # -- maintenance --------------------------------------------------------------------
    async def sweep(self) -> int:
        """Finish ingests that died (pending too long) and deletes that failed midway."""
        stale = await self.registry.stale(self.settings.pending_timeout_s, 60.0)
        for doc_id, user_id in stale:
            try:
                await self.registry.mark_deleting(doc_id)
                await self.backends.retriever.delete_document(user_id, doc_id)
                await self.registry.remove(doc_id)
            except Exception:
                logger.warning("sweep: %s not cleaned yet", doc_id, exc_info=True)
        return len(stale)

    def start(self) -> None:
        async def loop() -> None:
            while True:
                with contextlib.suppress(Exception):
                    cleaned = await self.sweep()
                    if cleaned:
                        logger.info("sweep cleaned %d unfinished documents", cleaned)
                await asyncio.sleep(self.settings.sweep_interval_s)

        self._sweeper = asyncio.create_task(loop())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sweeper
        if self.backends.close is not None:
            await asyncio.to_thread(self.backends.close)


class UploadProcessing:
    """/api/upload/*: convert or OCR one file and hand the result back; nothing is kept."""

    def __init__(self, rag: RagService) -> None:
        self.rag = rag

    async def image(self, data: bytes, filename: str) -> ImageUpload:
        import base64
        import uuid

        result = await self.rag.backends.documents.image(data, filename)
        return ImageUpload(
            file_id=f"img_{uuid.uuid4().hex[:20]}",
            filename=filename,
            data=f"data:{result.mime};base64,{base64.b64encode(data).decode('ascii')}",
            metadata=ImageMetadata(
                width=result.width,
                height=result.height,
                format=result.format,
                size_bytes=len(data),
            ),
            ocr_text=result.ocr_text,
        )

    async def document(self, data: bytes, filename: str) -> DocumentUpload:
        import uuid

        processed = await self.rag.backends.documents.process(data, filename, False)
        doc = processed.document
        text = doc.text()
        limit = self.rag.settings.upload_text_chars
        truncated = len(text) > limit
        return DocumentUpload(
            file_id=f"doc_{uuid.uuid4().hex[:20]}",
            filename=filename,
            text=text[:limit] if truncated else text,
            metadata=DocumentMetadata(
                pages=doc.pages,
                size_bytes=len(data),
                truncated=truncated,
                kind=doc.kind,
                content_type=doc.mime,
                chars=len(text),
                ocr_pages=doc.ocr_pages,
            ),
        )
