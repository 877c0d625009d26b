"""GGUF uploads: what the shared multipart receiver (``lmwebui.api.uploads``) needs for a
model file, and the install step after it.

The receiver streams the ``file`` part into ``<models>/.uploads/<uuid>.part`` (same
filesystem as the models, so installing is an atomic link) under ``gguf.max_upload_bytes``,
``gguf.read_timeout_s`` and the disk reserve/quota. Before a byte is written the name is
sanitised (``.gguf`` only) and an existing model of that name is a 409. Once received, the
file must be a GGUF whose header reads (400 otherwise); it is fsynced (``gguf.fsync``) and
linked under its name, never overwriting (409 if the name appeared meanwhile).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from lmwebui.errors import Conflict, InsufficientStorage, ValidationFailed
from lmwebui.models.metadata import GGUFInfo, InvalidGGUF, read_gguf_info
from lmwebui.models.storage import (
    UPLOADS_DIR,
    StorageLimits,
    fsync_file,
    install_file,
    is_disk_full,
    sanitize_filename,
)


@dataclass(frozen=True)
class GGUFUploadTarget:
    models_dir: Path
    max_bytes: int
    idle_timeout_s: float | None
    limits: StorageLimits
    fsync: bool = True

    @property
    def tmp_dir(self) -> Path:
        return self.models_dir / UPLOADS_DIR

    def check_space(self, needed: int) -> None:
        self.limits.check(self.models_dir, needed)

    def accept_filename(self, raw: str) -> str:
        name = sanitize_filename(raw)
        if (self.models_dir / name).exists():
            raise Conflict(f"Model '{name}' already exists")
        return name

    async def install(self, part: Path, name: str, size: int) -> tuple[Path, GGUFInfo]:
        """Validate the received file and link it in as ``<models>/<name>``."""
        if size == 0:
            raise ValidationFailed("Uploaded file is empty")
        try:
            info = await asyncio.to_thread(read_gguf_info, part)
        except InvalidGGUF as exc:
            raise ValidationFailed(f"Not a valid GGUF file: {exc}") from None
        target = self.models_dir / name
        try:
            if self.fsync:
                await asyncio.to_thread(fsync_file, part)
            await asyncio.to_thread(install_file, part, target)
        except FileExistsError:
            raise Conflict(f"Model '{name}' already exists") from None
        except OSError as exc:
            if is_disk_full(exc):
                raise InsufficientStorage("The disk is full") from None
            raise
        return target, info
