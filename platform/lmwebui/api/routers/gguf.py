"""/api/gguf: resolve, download (+ status/cancel), local list, upload, delete, compatibility."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from lmwebui.api.deps import CurrentUserDep, GGUFDep, UploadRateLimit
from lmwebui.api.uploads import multipart_openapi, receive_upload

router = APIRouter(prefix="/api/gguf", tags=["gguf"])


class ResolveRequest(BaseModel):
    input: str = Field(
        min_length=1,
        max_length=2048,
        description="owner/repo, owner/repo:file.gguf, owner/repo@revision:file or a hub URL",
    )


class DownloadRequest(BaseModel):
    file_url: str = Field(min_length=1, max_length=2048, description="Hub resolve URL")
    filename: str | None = Field(
        None, max_length=255, description="Local file name (default: the remote name)"
    )


@router.post("/resolve")
async def resolve(body: ResolveRequest, _user: CurrentUserDep, gguf: GGUFDep) -> dict[str, Any]:
    return await gguf.resolve(body.input)


@router.post("/download")
async def download(body: DownloadRequest, user: CurrentUserDep, gguf: GGUFDep) -> dict[str, Any]:
    return await gguf.start_download(user, body.file_url, body.filename)


@router.get("/downloads")
async def downloads(user: CurrentUserDep, gguf: GGUFDep) -> dict[str, Any]:
    return {"tasks": await gguf.tasks(user)}


@router.get("/download/{task_id}")
async def download_status(task_id: str, user: CurrentUserDep, gguf: GGUFDep) -> dict[str, Any]:
    return await gguf.task(user, task_id)


@router.post("/download/{task_id}/cancel")
async def cancel_download(task_id: str, user: CurrentUserDep, gguf: GGUFDep) -> dict[str, Any]:
    return await gguf.cancel(user, task_id)


@router.delete("/download/{task_id}")
async def delete_download(task_id: str, user: CurrentUserDep, gguf: GGUFDep) -> dict[str, Any]:
    return await gguf.cancel(user, task_id)


@router.get("/local")
async def local_models(_user: CurrentUserDep, gguf: GGUFDep) -> dict[str, Any]:
    return {"models": await gguf.list_local()}


@router.post("/upload", dependencies=[UploadRateLimit], openapi_extra=multipart_openapi())
async def upload(request: Request, user: CurrentUserDep, gguf: GGUFDep) -> dict[str, Any]:
    async with receive_upload(request, gguf.upload_target(user)) as received:
        return await gguf.upload(user, received.path, received.filename, received.size)


@router.get("/compatibility/{model_name}")
async def compatibility(model_name: str, _user: CurrentUserDep, gguf: GGUFDep) -> dict[str, Any]:
    return await gguf.compatibility(model_name)


@router.delete("/{model_name}")
async def delete_model(model_name: str, user: CurrentUserDep, gguf: GGUFDep) -> dict[str, Any]:
    return await gguf.delete(user, model_name)
