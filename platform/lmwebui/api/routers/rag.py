"""/api/rag: ingest, search, list and delete the caller's documents."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Query, Request, Response

from lmwebui.api.deps import CurrentUserDep, PageDep, RagDep, SettingsDep, UploadRateLimit
from lmwebui.api.responses import UPLOAD_ERRORS, errors
from lmwebui.api.schemas import StatusMessage
from lmwebui.api.uploads import TempUpload, multipart_openapi, receive_upload
from lmwebui.rag.schemas import (
    DocumentList,
    DocumentOut,
    RagIngestResult,
    SearchHit,
    SearchResults,
)
from lmwebui.rag.types import SearchMode

router = APIRouter(prefix="/api/rag", tags=["rag"], responses=errors(401, 503))


@router.post(
    "/ingest",
    status_code=201,
    dependencies=[UploadRateLimit],
    response_model=RagIngestResult,
    responses={**UPLOAD_ERRORS, **errors(404)},
    openapi_extra=multipart_openapi("conversation_id"),
)
async def ingest(
    request: Request, user: CurrentUserDep, rag: RagDep, settings: SettingsDep
) -> RagIngestResult:
    """multipart ``file`` (PDF, DOCX, PPTX, HTML, Markdown, text, image) and optional
    ``conversation_id``: the document is chunked, embedded and indexed for the caller."""
    target = TempUpload(settings.data_dir / "uploads", rag.settings.max_upload_bytes)
    async with receive_upload(request, target) as upload:
        data = await asyncio.to_thread(upload.read_bytes)
        conversation_id = upload.fields.get("conversation_id", "").strip() or None
        return await rag.ingest(user.id, upload.filename, data, conversation_id)


@router.get("/search", response_model=SearchResults, responses=errors(400, 404))
async def search(
    user: CurrentUserDep,
    rag: RagDep,
    query: str = Query(min_length=1, description="What to look for."),
    limit: int = Query(10, ge=1, description="Most results."),
    conversation_id: str | None = Query(None, max_length=40, description="Conversation scope."),
    mode: SearchMode = Query("hybrid", description="Retriever."),
) -> SearchResults:
    """The caller's ready documents' chunks that best match ``query``."""
    hits = await rag.search(user.id, query, limit, conversation_id, mode)
    return SearchResults(results=[SearchHit.of(h) for h in hits], mode=mode)


@router.get("/documents", response_model=DocumentList, responses=errors(400))
async def list_documents(
    response: Response,
    user: CurrentUserDep,
    rag: RagDep,
    page: PageDep,
    conversation_id: str | None = Query(None, max_length=40, description="Only this one's."),
) -> DocumentList:
    """Newest first; pagination headers X-Total-Count, X-Total-Pages, X-Current-Page."""
    docs, total = await rag.list_documents(user.id, page.offset, page.limit, conversation_id)
    page.headers(response, total)
    return DocumentList(documents=docs)


@router.get("/documents/{document_id}", response_model=DocumentOut, responses=errors(404))
async def get_document(document_id: str, user: CurrentUserDep, rag: RagDep) -> DocumentOut:
    return await rag.get_document(user.id, document_id)


@router.delete("/documents/{document_id}", response_model=StatusMessage, responses=errors(404))
async def delete_document(document_id: str, user: CurrentUserDep, rag: RagDep) -> StatusMessage:
    """Its chunks, then the document (it leaves search results at once)."""
    await rag.delete_document(user.id, document_id)
    return StatusMessage(message="Document deleted")
