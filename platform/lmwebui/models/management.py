"""GGUFService: what the /api/gguf routes do (resolve, download, list, delete, compatibility)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from pathlib import Path
from typing import Any

from lmwebui.auth.service import CurrentUser
from lmwebui.errors import (
    AppError,
    ModelNotFound,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    ValidationFailed,
)
from lmwebui.filenames import human_size
from lmwebui.models.catalog import ModelCatalog
from lmwebui.models.compat import best_targets, estimate_memory, recommend
from lmwebui.models.download_task import DownloadConfig, DownloadSpec
from lmwebui.models.files import BUNDLED_MODEL
from lmwebui.models.hub import HubClient
from lmwebui.models.hub_policy import HubPolicy, parse_reference
from lmwebui.models.metadata import GGUFInfo
from lmwebui.models.runtime import DownloadBackend, GGUFRuntime
from lmwebui.models.schemas import (
    BestGpu,
    Compatibility,
    CpuNode,
    DeleteResult,
    DownloadSnapshot,
    DownloadStarted,
    ListedModel,
    MemoryBreakdown,
    ResolveResult,
    UploadResult,
)
from lmwebui.models.storage import (
    StorageLimits,
    check_model_name,
    model_file,
    sanitize_filename,
)
from lmwebui.models.uploads import GGUFUploadTarget
from lmwebui.settings import Settings

logger = logging.getLogger("lmwebui.models")
CPU_NODE_KEYS = ("hostname", "node_id", "ram_total_mb")


def _canonical(name: str) -> str:
    return name if name.endswith(".gguf") else f"{name}.gguf"


class GGUFService:
    def __init__(self, settings: Settings, runtime: GGUFRuntime) -> None:
        g = settings.gguf
        self.settings = settings
        self.models_dir = settings.resolved_models_dir
        self.policy = HubPolicy(g.hub_endpoint, g.extra_hub_hosts, g.redirect_hosts)
        self.hub = HubClient(self.policy, g.hub_timeout_s)
        self.catalog = ModelCatalog(self.models_dir)
        self.limits = StorageLimits(g.reserve_free_bytes, g.max_storage_bytes)
        self.runtime = runtime
        self.download_config = DownloadConfig.from_settings(settings)
        self.downloads: DownloadBackend = runtime.make_downloads(self.download_config)
        self.protected = {BUNDLED_MODEL, _canonical(settings.chat.default_model)}

    async def close(self) -> None:
        await self.downloads.close()

    # ------------------------------------------------------------------ permissions
    def require_manager(self, user: CurrentUser) -> None:
        if self.settings.gguf.admin_only and not user.is_admin:
            raise PermissionDenied("Administrator role required to manage models")

    @staticmethod
    def can_view(user: CurrentUser, task: dict[str, Any]) -> bool:
        return user.is_admin or user.id in task.get("owners", [])

    # ------------------------------------------------------------------ hub
    async def resolve(self, text: str) -> ResolveResult:
        return await self.hub.resolve(parse_reference(text, self.policy))

    async def start_download(
        self, user: CurrentUser, file_url: str, filename: str | None
    ) -> DownloadStarted:
        self.require_manager(user)
        ref = self.policy.parse_hub_url(file_url)
        if ref.path is None or ref.revision is None:
            raise ValidationFailed("file_url must name a file: <hub>/<owner>/<repo>/resolve/...")
        if not ref.path.lower().endswith(".gguf"):
            raise ValidationFailed("Only .gguf files can be downloaded")
        name = sanitize_filename(filename or ref.path)
        listing, hub_file = await self.hub.file(ref)
        if hub_file.size is None:
            raise ServiceUnavailable("The hub did not report the file size; try again later")
        if hub_file.size > self.settings.gguf.max_download_bytes:
            raise ValidationFailed(
                f"File is {human_size(hub_file.size)}; the limit is "
                f"{human_size(self.settings.gguf.max_download_bytes)}"
            )
        spec = DownloadSpec(
            repo_id=ref.repo_id,
            revision=ref.revision,
            commit=listing.commit,
            path=ref.path,
            filename=name,
            # pinned to the commit: a resume must get the same bytes
            url=self.policy.file_url(ref.repo_id, listing.commit or ref.revision, ref.path),
            size=hub_file.size,
            sha256=hub_file.sha256,
            quantizations=listing.quantizations(),
        )
        snap = await self.downloads.start(vars(spec), user.id)
        return DownloadStarted(
            task_id=snap["task_id"],
            websocket_url=f"/ws/gguf/download/{snap['task_id']}",
            joined=snap["joined"],
            filename=name,
            total_bytes=spec.size,
            human_size=human_size(spec.size),
            sha256=spec.sha256,
        )

    async def task(self, user: CurrentUser, task_id: str) -> dict[str, Any]:
        """The manager's snapshot of a task the caller may see (what the socket follows)."""
        snap = await self.downloads.get(task_id)
        if snap is None or not self.can_view(user, snap):
            raise NotFound(f"Download task '{task_id}' not found")
        return snap

    async def status(self, user: CurrentUser, task_id: str) -> DownloadSnapshot:
        """``task()`` as GET /api/gguf/download/{task_id} answers it."""
        return DownloadSnapshot.of(await self.task(user, task_id))

    async def watch(
        self, task_id: str, version: int | None, timeout_s: float
    ) -> dict[str, Any] | None:
        """The task's next snapshot after ``version`` (long poll; the caller already
        passed ``task()``'s access check for this task)."""
        return await self.downloads.watch(task_id, version, timeout_s)

    async def tasks(self, user: CurrentUser) -> list[DownloadSnapshot]:
        tasks = await self.downloads.list_tasks()
        return [DownloadSnapshot.of(t) for t in tasks if self.can_view(user, t)]

    async def cancel(self, user: CurrentUser, task_id: str) -> DownloadSnapshot:
        await self.task(user, task_id)
        self.require_manager(user)
        return DownloadSnapshot.of(await self.downloads.cancel(task_id))

    # ------------------------------------------------------------------ local models
    def upload_target(self, user: CurrentUser) -> GGUFUploadTarget:
        """Where and under which limits the upload receiver writes a model file (managers
        only: checked before the body is read)."""
        self.require_manager(user)
        g = self.settings.gguf
        return GGUFUploadTarget(
            self.models_dir, g.max_upload_bytes, g.read_timeout_s, self.limits, g.fsync
        )

    async def upload(self, user: CurrentUser, part: Path, name: str, size: int) -> UploadResult:
        """Install a file the receiver wrote for ``upload_target`` as model ``name``."""
        path, info = await self.upload_target(user).install(part, name, size)
        await asyncio.to_thread(self.catalog.record, name, path, info, {"uploaded_by": user.id})
        return UploadResult(filename=name, size=size, human_size=human_size(size), **info.public())

    async def list_local(self) -> list[ListedModel]:
        return await asyncio.to_thread(self.catalog.list_models, self.protected)

    def local_path(self, name: str) -> Path:
        return model_file(self.models_dir, check_model_name(_canonical(name)))

    async def delete(self, user: CurrentUser, name: str) -> DeleteResult:
        """Hide the file (atomic rename), unload it from every chat replica, then remove it.
        If the replicas cannot be reached the file is put back: nothing half-done."""
        self.require_manager(user)
        name = _canonical(name)
        path = self.local_path(name)
        if name in self.protected:
            raise PermissionDenied(f"Model '{name}' is the bundled/default model and is protected")
        hidden = self.models_dir / f".deleting-{uuid.uuid4().hex}-{name}"
        try:
            await asyncio.to_thread(os.rename, path, hidden)
        except FileNotFoundError:
            raise ModelNotFound(f"Model '{name}' not found") from None
        try:
            unloaded = await asyncio.wait_for(
                self.runtime.model_unloader(name), self.settings.gguf.unload_timeout_s
            )
        except Exception as exc:
            await asyncio.to_thread(os.rename, hidden, path)
            if isinstance(exc, AppError):
                raise
            logger.warning("unloading %s failed: %s", name, exc)
            raise ServiceUnavailable(
                f"Could not unload '{name}' from the chat replicas; nothing was deleted"
            ) from None
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(hidden.unlink)
        await asyncio.to_thread(self.catalog.forget, name)
        logger.info("deleted model %s (unloaded from %d replica(s))", name, unloaded)
        return DeleteResult(name=name, unloaded_replicas=unloaded)

    async def compatibility(self, name: str) -> Compatibility:
        """Whether the model fits the best GPU (or a node's RAM) with the engine as configured,
        and the best-quality quantization that would."""
        name = _canonical(name)
        path = self.local_path(name)
        info, provenance = await asyncio.to_thread(self.catalog.info, name, path)
        if info is None:
            raise ValidationFailed(f"Model '{name}' is not a readable GGUF file")
        chat = self.settings.chat
        est = estimate_memory(info, chat.n_slots, chat.n_ctx_per_slot)
        gpu, ram_node = best_targets(await self.runtime.node_probe())
        total_mb = _mib(est["total"])
        vram_mb = int(gpu["free_mb"]) if gpu else 0
        ram_mb = int(ram_node["ram_available_mb"]) if ram_node else 0
        available = vram_mb if gpu is not None else ram_mb
        quant, source = recommend(
            info, est["total"] - est["weights"], available, provenance.get("quantizations")
        )
        return Compatibility(
            compatible=(gpu is not None and total_mb <= vram_mb) or total_mb <= ram_mb,
            recommended_quantization=quant,
            recommendation_source=source,
            estimated_vram_mb=total_mb,
            available_vram_mb=vram_mb,
            estimated_ram_mb=total_mb,
            available_ram_mb=ram_mb,
            backend="cuda" if gpu is not None else "cpu",
            message=fit_message(total_mb, vram_mb if gpu else None, ram_mb, quant, info),
            model=name,
            quantization=info.quantization,
            parameter_count=info.parameter_count,
            context_tokens=chat.n_slots * chat.n_ctx_per_slot,
            breakdown_mb=MemoryBreakdown(**{k: _mib(v) for k, v in est.items()}),
            best_gpu=BestGpu(**gpu) if gpu else None,
            best_cpu_node=CpuNode(**{k: ram_node.get(k) for k in CPU_NODE_KEYS})
            if ram_node
            else None,
        )


def _mib(n: int) -> int:
    return -(-n // (1024 * 1024))


def fit_message(
    total_mb: int, vram_mb: int | None, ram_mb: int, quant: str | None, info: GGUFInfo
) -> str:
    """What the compatibility check says; ``vram_mb`` is None without a GPU in the cluster."""
    if vram_mb is not None and total_mb <= vram_mb:
        return "Model compatible with current hardware"
    if vram_mb is not None and total_mb <= ram_mb:
        return (
            f"Needs ~{total_mb} MB but the best GPU has {vram_mb} MB free; it fits in "
            f"system RAM ({ram_mb} MB available) on a CPU replica"
        )
    if total_mb <= ram_mb:
        return "Model compatible with current hardware (CPU replica, no GPU in the cluster)"
    available = vram_mb if vram_mb is not None else ram_mb
    return f"Needs ~{total_mb} MB; the best node has {available} MB available" + (
        f"; try {quant}" if quant and quant != info.quantization else ""
    )
