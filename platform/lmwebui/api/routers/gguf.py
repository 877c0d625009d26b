"""/api/gguf: resolve, download (+ status/cancel), local list, upload, delete, compatibility."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from lmwebui.api.deps import CurrentUserDep, GGUFDep, UploadRateLimit
from lmwebui.api.responses import UPLOAD_ERRORS, errors
from lmwebui.api.uploads import multipart_openapi, receive_upload
from lmwebui.models.schemas import (
    Compatibility,
    DeleteResult,
    DownloadRequest,
    DownloadSnapshot,
    DownloadStarted,
    LocalModels,
    ResolveRequest,
    ResolveResult,
    TaskList,
    UploadResult,
)
from lmwebui.models.storage import MAX_NAME_CHARS

router = APIRouter(prefix="/api/gguf", tags=["gguf"], responses=errors(401))
HUB_ERRORS = errors(400, 403, 404, 502, 504)
# A local model's name as the routes take it: ".gguf" is added when missing, then the
# service checks it (storage.check_model_name: no path, no "..", at most MAX_NAME_CHARS).
ModelName = Annotated[
    str,
    Path(
        description="A local model: a plain file name (.gguf is added when missing).",
        json_schema_extra={
            "pattern": r"^[A-Za-z0-9][A-Za-z0-9_+-]*(\.[A-Za-z0-9_+-]+)*$",
            "maxLength": MAX_NAME_CHARS - len(".gguf"),
        },
    ),
]


@router.post("/resolve", response_model=ResolveResult, responses=HUB_ERRORS)
async def resolve(body: ResolveRequest, _user: CurrentUserDep, gguf: GGUFDep) -> ResolveResult:
    """The file a reference names (or a sensible default of the repo) and every GGUF file."""
    return await gguf.resolve(body.input)


@router.post(
    "/download",
    response_model=DownloadStarted,
    responses={**HUB_ERRORS, **errors(409, 429, 503, 507)},
)
async def download(body: DownloadRequest, user: CurrentUserDep, gguf: GGUFDep) -> DownloadStarted:
    """Start (or join) a download; follow it on the WebSocket ``websocket_url``."""
    return await gguf.start_download(user, body.file_url, body.filename)


@router.get("/downloads", response_model=TaskList)
async def downloads(user: CurrentUserDep, gguf: GGUFDep) -> TaskList:
    return TaskList(tasks=await gguf.tasks(user))


@router.get("/download/{task_id}", response_model=DownloadSnapshot, responses=errors(404))
async def download_status(task_id: str, user: CurrentUserDep, gguf: GGUFDep) -> DownloadSnapshot:
    return await gguf.status(user, task_id)


@router.post(
    "/download/{task_id}/cancel",
    response_model=DownloadSnapshot,
    responses=errors(403, 404, 409),
)
async def cancel_download(task_id: str, user: CurrentUserDep, gguf: GGUFDep) -> DownloadSnapshot:
    """Stop it and remove the partial file (409 once completed)."""
    return await gguf.cancel(user, task_id)


@router.delete(
    "/download/{task_id}", response_model=DownloadSnapshot, responses=errors(403, 404, 409)
)
async def delete_download(task_id: str, user: CurrentUserDep, gguf: GGUFDep) -> DownloadSnapshot:
    """The same as cancel."""
    return await gguf.cancel(user, task_id)


@router.get("/local", response_model=LocalModels)
async def local_models(_user: CurrentUserDep, gguf: GGUFDep) -> LocalModels:
    return LocalModels(models=await gguf.list_local())


@router.post(
    "/upload",
    dependencies=[UploadRateLimit],
    response_model=UploadResult,
    responses=UPLOAD_ERRORS,
    openapi_extra=multipart_openapi(),
)
async def upload(request: Request, user: CurrentUserDep, gguf: GGUFDep) -> UploadResult:
    """multipart ``file``: a GGUF model, stored under its sanitised name (managers only)."""
    async with receive_upload(request, gguf.upload_target(user)) as received:
        return await gguf.upload(user, received.path, received.filename, received.size)


@router.get("/compatibility/{model_name}", response_model=Compatibility, responses=errors(400, 404))
async def compatibility(
    model_name: ModelName, _user: CurrentUserDep, gguf: GGUFDep
) -> Compatibility:
    return await gguf.compatibility(model_name)


@router.delete("/{model_name}", response_model=DeleteResult, responses=errors(400, 403, 404, 503))
async def delete_model(model_name: ModelName, user: CurrentUserDep, gguf: GGUFDep) -> DeleteResult:
    """Unload it from every chat replica, then remove the file (the default is protected)."""
    return await gguf.delete(user, model_name)
