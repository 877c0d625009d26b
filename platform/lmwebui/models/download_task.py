"""Download task state: the spec, the mutable state, snapshots/events, persistence."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lmwebui.settings import Settings

ACTIVE = ("queued", "running", "verifying")
TERMINAL = ("completed", "error", "cancelled")


@dataclass
class DownloadConfig:
    """Everything the manager needs; plain data so it can be sent to the Ray actor."""

    models_dir: str
    hub_endpoint: str
    extra_hub_hosts: list[str] = field(default_factory=list)
    redirect_hosts: list[str] = field(default_factory=list)
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    max_retries: int = 5
    max_download_bytes: int = 256 * 1024**3
    reserve_free_bytes: int = 1024**3
    max_storage_bytes: int | None = None
    progress_interval_s: float = 0.5
    finished_task_ttl_s: float = 24 * 3600.0
    max_concurrent_per_user: int = 2
    max_tasks: int = 1000
    fsync: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> DownloadConfig:
        from lmwebui.models.hub_policy import HubPolicy

        g = settings.gguf
        return cls(
            models_dir=str(settings.resolved_models_dir),
            hub_endpoint=HubPolicy(g.hub_endpoint).endpoint,
            extra_hub_hosts=list(g.extra_hub_hosts),
            redirect_hosts=list(g.redirect_hosts),
            connect_timeout_s=g.connect_timeout_s,
            read_timeout_s=g.read_timeout_s,
            max_retries=g.max_retries,
            max_download_bytes=g.max_download_bytes,
            reserve_free_bytes=g.reserve_free_bytes,
            max_storage_bytes=g.max_storage_bytes,
            progress_interval_s=g.progress_interval_s,
            finished_task_ttl_s=g.finished_task_ttl_s,
            max_concurrent_per_user=settings.rate_limits.concurrent_downloads,
            fsync=g.fsync,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DownloadSpec:
    """What to fetch; the URL is pinned to the commit so a resume gets the same bytes."""

    repo_id: str
    revision: str
    commit: str | None
    path: str
    filename: str
    url: str
    size: int
    sha256: str | None
    quantizations: dict[str, int] = field(default_factory=dict)

    def task_id(self) -> str:
        key = "|".join([self.repo_id, self.commit or self.revision, self.path, self.filename])
        return "download_" + hashlib.sha256(key.encode()).hexdigest()[:20]


@dataclass
class DownloadTask:
    task_id: str
    spec: DownloadSpec
    started_by: int
    owners: list[int]
    status: str = "queued"
    downloaded: int = 0
    transferred: int = 0  # bytes received over the network, re-transfers included
    range_starts: list[int] = field(default_factory=list)  # offset of each GET
    attempts: int = 0
    speed_bps: float = 0.0
    error: str | None = None
    error_code: str | None = None
    message: str | None = None
    resumable: bool = False
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    version: int = 0

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def snapshot(self) -> dict[str, Any]:
        total = self.spec.size
        pct = round(100.0 * self.downloaded / total, 1) if total else 0.0
        remaining = max(total - self.downloaded, 0)
        eta = int(remaining / self.speed_bps) if self.speed_bps > 0 and self.active else None
        return {
            "task_id": self.task_id,
            "status": self.status,
            "filename": self.spec.filename,
            "repo_id": self.spec.repo_id,
            "revision": self.spec.revision,
            "commit": self.spec.commit,
            "path": self.spec.path,
            "url": self.spec.url,
            "sha256": self.spec.sha256,
            "downloaded_bytes": self.downloaded,
            "total_bytes": total,
            "percentage": pct if self.status != "completed" else 100.0,
            "speed_kbps": int(self.speed_bps / 1024) if self.active else 0,
            "eta_seconds": eta if self.status != "completed" else 0,
            "transferred_bytes": self.transferred,
            "range_starts": list(self.range_starts),
            "attempts": self.attempts,
            "error": self.error,
            "error_code": self.error_code,
            "message": self.message,
            "resumable": self.resumable,
            "started_by": self.started_by,
            "owners": list(self.owners),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "finished_at": self.finished_at,
            "version": self.version,
        }

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> DownloadTask:
        data = dict(data)
        data["spec"] = DownloadSpec(**data["spec"])
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def event_for(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The WebSocket event (reference shapes) for a task snapshot."""
    status = snapshot["status"]
    base = {"task_id": snapshot["task_id"], "filename": snapshot["filename"]}
    if status == "completed":
        return {
            "type": "completed",
            **base,
            "size_bytes": snapshot["total_bytes"],
            "sha256": snapshot["sha256"],
            "message": "Download completed successfully",
        }
    if status == "error":
        return {
            "type": "error",
            **base,
            "error": snapshot["error"] or "Download failed",
            "error_code": snapshot["error_code"] or "INTERNAL_ERROR",
            "message": snapshot["message"] or "Failed to download file",
            "resumable": snapshot["resumable"],
            "downloaded_bytes": snapshot["downloaded_bytes"],
        }
    if status == "cancelled":
        return {"type": "cancelled", **base, "message": "Download cancelled"}
    keys = (
        "downloaded_bytes",
        "total_bytes",
        "percentage",
        "speed_kbps",
        "eta_seconds",
        "status",
    )
    return {"type": "progress", **base, **{k: snapshot[k] for k in keys}}


class TaskStore:
    """``<models>/.downloads/<task>.json`` next to ``<task>.part``; atomic writes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def part(self, task_id: str) -> Path:
        return self.folder / f"{task_id}.part"

    def save(self, task: DownloadTask) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=self.folder)
        with os.fdopen(fd, "w") as fh:
            json.dump(task.to_record(), fh)
        os.replace(tmp, self.folder / f"{task.task_id}.json")

    def remove(self, task_id: str, *, part: bool) -> None:
        with contextlib.suppress(OSError):
            (self.folder / f"{task_id}.json").unlink()
        if part:
            with contextlib.suppress(OSError):
                self.part(task_id).unlink()

    def load_all(self) -> list[DownloadTask]:
        tasks: list[DownloadTask] = []
        if not self.folder.is_dir():
            return tasks
        known: set[str] = set()
        for path in self.folder.glob("download_*.json"):
            try:
                task = DownloadTask.from_record(json.loads(path.read_text()))
            except (OSError, ValueError, TypeError, KeyError):
                path.unlink(missing_ok=True)
                continue
            tasks.append(task)
            known.add(task.task_id)
        for stray in self.folder.iterdir():  # parts without a record, temp files
            stem = stray.name.split(".", 1)[0]
            orphan = stray.is_file() and stem not in known and stray.suffix != ".json"
            if orphan or stray.name.startswith(".tmp-"):
                stray.unlink(missing_ok=True)
        return tasks
