"""/api/upload/image and /api/upload/document: process a file and return the result."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import APIRouter, Request

from lmwebui.api.deps import CurrentUserDep, RagDep, SettingsDep, UploadRateLimit
from lmwebui.api.responses import UPLOAD_ERRORS
from lmwebui.api.uploads import TempUpload, multipart_openapi, receive_upload
from lmwebui.rag.schemas import DocumentUpload, ImageUpload
from lmwebui.settings import Settings

router = APIRouter(prefix="/api/upload", tags=["uploads"], responses=UPLOAD_ERRORS)

T = TypeVar("T")


async def _process(
    request: Request,
    settings: Settings,
    max_bytes: int,
    process: Callable[[bytes, str], Awaitable[T]],
) -> T:
    """Stream the upload to a temporary file (size-limited), process it, always clean up."""
    target = TempUpload(settings.data_dir / "uploads", max_bytes)
    async with receive_upload(request, target) as upload:
        data = await asyncio.to_thread(upload.read_bytes)
        return await process(data, upload.filename)


@router.post(
    "/image",
    dependencies=[UploadRateLimit],
    response_model=ImageUpload,
    responses=UPLOAD_ERRORS,
    openapi_extra=multipart_openapi(),
)
async def upload_image(
    request: Request, _user: CurrentUserDep, rag: RagDep, settings: SettingsDep
) -> ImageUpload:
    """An image (PNG, JPEG, GIF, WEBP, BMP, TIFF): a data URL, its size and its OCR text."""
    return await _process(request, settings, rag.settings.max_image_bytes, rag.uploads.image)


@router.post(
    "/document",
    dependencies=[UploadRateLimit],
    response_model=DocumentUpload,
    responses=UPLOAD_ERRORS,
    openapi_extra=multipart_openapi(),
)
async def upload_document(
    request: Request, _user: CurrentUserDep, rag: RagDep, settings: SettingsDep
) -> DocumentUpload:
    """A document (or a photo of one): its text, at most ``rag.upload_text_chars``."""
    return await _process(request, settings, rag.settings.max_upload_bytes, rag.uploads.document)
