"""/api/upload/image and /api/upload/document: process a file and return the result."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request

from lmwebui.api.deps import CurrentUserDep, RagDep, ServicesDep, UploadRateLimit
from lmwebui.api.services import Services
from lmwebui.api.uploads import TempUpload, multipart_openapi, receive_upload

router = APIRouter(prefix="/api/upload", tags=["uploads"])

Processor = Callable[[bytes, str], Awaitable[dict[str, Any]]]


async def _process(
    request: Request, services: Services, max_bytes: int, process: Processor
) -> dict[str, Any]:
    """Stream the upload to a temporary file (size-limited), process it, always clean up."""
    target = TempUpload(services.settings.data_dir / "uploads", max_bytes)
    async with receive_upload(request, target) as upload:
        data = await asyncio.to_thread(upload.read_bytes)
        return await process(data, upload.filename)


@router.post("/image", dependencies=[UploadRateLimit], openapi_extra=multipart_openapi())
async def upload_image(
    request: Request, _user: CurrentUserDep, rag: RagDep, services: ServicesDep
) -> dict[str, Any]:
    """An image (PNG, JPEG, GIF, WEBP, BMP, TIFF): a data URL, its size and its OCR text."""
    return await _process(request, services, rag.settings.max_image_bytes, rag.uploads.image)


@router.post("/document", dependencies=[UploadRateLimit], openapi_extra=multipart_openapi())
async def upload_document(
    request: Request, _user: CurrentUserDep, rag: RagDep, services: ServicesDep
) -> dict[str, Any]:
    """A document (or a photo of one): its text, at most ``rag.upload_text_chars``."""
    return await _process(request, services, rag.settings.max_upload_bytes, rag.uploads.document)
