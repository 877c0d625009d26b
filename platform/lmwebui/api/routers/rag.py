"""/api/rag: ingest, search, list and delete the caller's documents."""

from __future__ import annotations

import asyncio
import math
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response

from lmwebui.api.deps import CurrentUserDep, RagDep, ServicesDep, UploadRateLimit
from lmwebui.api.uploads import TempUpload, multipart_openapi, receive_upload

router = APIRouter(prefix="/api/rag", tags=["rag"])


@router.post(
    "/ingest",
    status_code=201,
    dependencies=[UploadRateLimit],
    openapi_extra=multipart_openapi("conversation_id"),
)
async def ingest(
    request: Request, user: CurrentUserDep, rag: RagDep, services: ServicesDep
) -> dict[str, Any]:
    """multipart ``file`` (PDF, DOCX, PPTX, HTML, Markdown, text, image) and optional
    ``conversation_id``: the document is chunked, embedded and indexed for the caller."""
    target = TempUpload(services.settings.data_dir / "uploads", rag.settings.max_upload_bytes)
    async with receive_upload(request, target) as upload:
        data = await asyncio.to_thread(upload.read_bytes)
        conversation_id = upload.fields.get("conversation_id", "").strip() or None
        return await rag.ingest(user.id, upload.filename, data, conversation_id)


@router.get("/search")
async def search(
    user: CurrentUserDep,
    rag: RagDep,
    query: str = Query(min_length=1, description="What to look for."),
    limit: int = Query(10, ge=1, description="Most results."),
    conversation_id: str | None = Query(None, max_length=40, description="Conversation scope."),
    mode: Literal["hybrid", "dense", "bm25"] = Query("hybrid", description="Retriever."),
) -> dict[str, Any]:
    hits = await rag.search(user.id, query, limit, conversation_id, mode)
    return {
        "results": [
            {
                "document_id": h.document_id,
                "chunk_id": h.chunk_id,
                "content": h.text,
                "score": h.score,
                "metadata": {
                    "filename": h.filename,
                    "page": h.page,
                    "heading": h.heading or None,
                    "chunk_index": h.chunk_index,
                    "conversation_id": h.conversation_id,
                },
            }
            for h in hits
        ],
        "mode": mode,
    }


@router.get("/documents")
async def list_documents(
    response: Response,
    user: CurrentUserDep,
    rag: RagDep,
    page: int = Query(1, ge=1),
    limit: int = Query(20, ge=1, le=100),
    conversation_id: str | None = Query(None, max_length=40),
) -> dict[str, Any]:
    docs, total = await rag.list_documents(user.id, page, limit, conversation_id)
    response.headers.update(
        {
            "X-Total-Count": str(total),
            "X-Total-Pages": str(max(1, math.ceil(total / limit))),
            "X-Current-Page": str(page),
            "X-Per-Page": str(limit),
        }
    )
    return {"documents": docs}


@router.get("/documents/{document_id}")
async def get_document(document_id: str, user: CurrentUserDep, rag: RagDep) -> dict[str, Any]:
    return await rag.get_document(user.id, document_id)


@router.delete("/documents/{document_id}")
async def delete_document(document_id: str, user: CurrentUserDep, rag: RagDep) -> dict[str, str]:
    await rag.delete_document(user.id, document_id)
    return {"status": "success", "message": "Document deleted"}
