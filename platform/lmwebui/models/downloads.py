"""DownloadManager: owns every download task (state, transfer, resume, cancel, events).

It runs inside one named, detached Ray actor (``deployments/download_manager.py``) so that
every ingress replica sees the same tasks and a task outlives the replica that started
it; in-process apps run the same class in their own event loop. Task state is persisted
next to the partial file, so a restarted actor resumes where the file ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from pathlib import Path
from typing import Any

from lmwebui.errors import Conflict, NotFound, RateLimited
from lmwebui.metrics import get_metrics
from lmwebui.models.catalog import ModelCatalog
from lmwebui.models.download_runner import DownloadFailed, DownloadRunner
from lmwebui.models.download_task import (
    DownloadConfig,
    DownloadSpec,
    DownloadTask,
    TaskStore,
)
from lmwebui.models.hub_policy import HubPolicy
from lmwebui.models.storage import DOWNLOADS_DIR, StorageLimits

logger = logging.getLogger("lmwebui.models.downloads")


class DownloadManager:
    def __init__(self, config: DownloadConfig) -> None:
        self.config = config
        self.models_dir = Path(config.models_dir)
        self.store = TaskStore(self.models_dir / DOWNLOADS_DIR)
        self.policy = HubPolicy(config.hub_endpoint, config.extra_hub_hosts, config.redirect_hosts)
        self.limits = StorageLimits(config.reserve_free_bytes, config.max_storage_bytes)
        self.catalog = ModelCatalog(self.models_dir)
        self.tasks: dict[str, DownloadTask] = {}
        self._runners: dict[str, asyncio.Task[None]] = {}
        self._start_bytes: dict[str, int] = {}  # downloaded bytes when a run started
        self._events: dict[str, asyncio.Event] = {}
        # versions stay monotonic across actor restarts (watchers compare them)
        self._versions = itertools.count(time.time_ns() // 1000)
        self.runner = DownloadRunner(
            config, self.policy, self.limits, self.store, self.catalog, self._notify
        )
        self._lock = asyncio.Lock()
        self._resumed = False

    # ------------------------------------------------------------------ lifecycle
    async def resume(self) -> int:
        """Reload persisted tasks; restart those that were running. Idempotent."""
        async with self._lock:
            if self._resumed:
                return 0
            self._resumed = True
            loaded = await asyncio.to_thread(self.store.load_all)
            restarted = 0
            for task in loaded:
                self.tasks[task.task_id] = task
                if task.active:
                    task.status = "queued"
                    self._start_runner(task)
                    restarted += 1
            self._prune()
            if restarted:
                logger.info("resuming %d download(s)", restarted)
            return restarted

    async def shutdown(self) -> None:
        """Stop transfers but keep their state: the next start resumes them."""
        runners = list(self._runners.values())
        for r in runners:
            r.cancel()
        for r in runners:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await r
        self.runner.close()

    # ------------------------------------------------------------------ API
    async def start(self, spec_data: dict[str, Any], user_id: int) -> dict[str, Any]:
        """Start (or join) the download of ``spec``; returns the snapshot + ``joined``."""
        await self.resume()
        spec = DownloadSpec(**spec_data)
        task_id = spec.task_id()
        async with self._lock:
            existing = self.tasks.get(task_id)
            if existing is not None and existing.active:
                if user_id not in existing.owners:
                    existing.owners.append(user_id)
                    await asyncio.to_thread(self.store.save, existing)
                return {**existing.snapshot(), "joined": True}
            target = self.models_dir / spec.filename
            if target.exists() or target.is_symlink():
                raise Conflict(f"Model '{spec.filename}' already exists")
            for other in self.tasks.values():
                if other.active and other.spec.filename == spec.filename:
                    raise Conflict(
                        f"Another download ({other.task_id}) is writing '{spec.filename}'"
                    )
            running = sum(1 for t in self.tasks.values() if t.active and t.started_by == user_id)
            limit = self.config.max_concurrent_per_user
            if running >= limit:
                raise RateLimited(
                    f"At most {limit} concurrent downloads per user",
                    headers={
                        "X-RateLimit-Limit": str(limit),
                        "X-RateLimit-Remaining": "0",
                        "Retry-After": "10",
                    },
                )
            part = self.store.part(task_id)
            have = part.stat().st_size if part.exists() else 0
            self.limits.check(self.models_dir, max(spec.size - have, 0))
            task = DownloadTask(task_id, spec, started_by=user_id, owners=[user_id])
            if existing is not None:  # a failed/cancelled run: keep who asked before
                task.owners = sorted({*existing.owners, user_id})
                task.created_at = existing.created_at
            self.tasks[task_id] = task
            await asyncio.to_thread(self.store.save, task)
            self._start_runner(task)
            self._prune()
            return {**task.snapshot(), "joined": False}

    async def get(self, task_id: str) -> dict[str, Any] | None:
        await self.resume()
        task = self.tasks.get(task_id)
        return task.snapshot() if task else None

    async def list_tasks(self) -> list[dict[str, Any]]:
        await self.resume()
        return [t.snapshot() for t in sorted(self.tasks.values(), key=lambda t: -t.created_at)]

    async def watch(
        self, task_id: str, version: int | None, timeout_s: float = 10.0
    ) -> dict[str, Any] | None:
        """Long poll: the snapshot as soon as its version differs from ``version``."""
        await self.resume()
        task = self.tasks.get(task_id)
        if task is None:
            return None
        if task.version != version:
            return task.snapshot()
        event = self._events.setdefault(task_id, asyncio.Event())
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), timeout_s)
        task = self.tasks.get(task_id)
        return task.snapshot() if task else None

    async def cancel(self, task_id: str) -> dict[str, Any]:
        """Stop the transfer and remove the partial file (any state but completed)."""
        await self.resume()
        task = self.tasks.get(task_id)
        if task is None:
            raise NotFound(f"Download task '{task_id}' not found")
        if task.status == "completed":
            raise Conflict("The download already completed")
        if task.status == "cancelled":
            return task.snapshot()
        runner = self._runners.get(task_id)
        if runner is not None and not runner.done():
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
        await asyncio.to_thread(self.store.remove, task_id, part=True)
        self._finish(task, "cancelled", message="Download cancelled")
        await asyncio.to_thread(self.store.save, task)
        return task.snapshot()

    async def ready(self) -> bool:
        await self.resume()
        return True

    # ------------------------------------------------------------------ internals
    def _notify(self, task: DownloadTask) -> None:
        task.version = next(self._versions)
        task.updated_at = time.time()
        event = self._events.pop(task.task_id, None)
        if event is not None:
            event.set()

    def _finish(self, task: DownloadTask, status: str, **fields: Any) -> None:
        metrics = get_metrics()
        received = task.downloaded - self._start_bytes.pop(task.task_id, task.downloaded)
        metrics.inc("lmwebui_downloads_bytes_total", max(received, 0))
        if status == "completed":
            metrics.inc("lmwebui_downloads_completed_total")
        elif status == "error":
            reason = str(fields.get("error_code") or "unknown")
            metrics.inc("lmwebui_downloads_failed_total", tags={"reason": reason})
        task.status = status
        task.finished_at = time.time()
        task.speed_bps = 0.0
        for k, v in fields.items():
            setattr(task, k, v)
        self._notify(task)

    def _prune(self) -> None:
        """Forget finished tasks past their TTL (and beyond the task cap)."""
        now = time.time()
        finished = sorted(
            (t for t in self.tasks.values() if not t.active),
            key=lambda t: t.finished_at or t.updated_at,
        )
        excess = max(len(self.tasks) - self.config.max_tasks, 0)
        for t in finished:
            expired = (t.finished_at or t.updated_at) + self.config.finished_task_ttl_s < now
            if expired or excess > 0:
                excess -= 1
                self.tasks.pop(t.task_id, None)
                self.store.remove(t.task_id, part=True)

    def _start_runner(self, task: DownloadTask) -> None:
        task.error = task.error_code = task.message = None
        task.resumable = False
        task.finished_at = None
        self._notify(task)
        self._start_bytes[task.task_id] = task.downloaded
        self._runners[task.task_id] = asyncio.ensure_future(self._run(task))
        get_metrics().set("lmwebui_downloads_active", len(self._runners))

    async def _run(self, task: DownloadTask) -> None:
        try:
            await self.runner.run(task)
            self._finish(task, "completed", message="Download completed successfully")
            logger.info("downloaded %s (%d bytes)", task.spec.filename, task.spec.size)
        except asyncio.CancelledError:
            raise  # cancel() or shutdown(): they record the outcome
        except DownloadFailed as exc:
            if not exc.resumable:
                await asyncio.to_thread(self.store.part(task.task_id).unlink, missing_ok=True)
            self._finish(
                task,
                "error",
                error=exc.error,
                error_code=exc.code,
                message=exc.message,
                resumable=exc.resumable,
            )
            logger.warning("download %s failed: %s", task.task_id, exc.message)
        except Exception as exc:
            logger.exception("download %s crashed", task.task_id)
            self._finish(
                task,
                "error",
                error="Internal error",
                error_code="INTERNAL_ERROR",
                message=f"Failed to download file: {type(exc).__name__}",
                resumable=True,
            )
        finally:
            if self._runners.get(task.task_id) is asyncio.current_task():
                self._runners.pop(task.task_id, None)
            get_metrics().set("lmwebui_downloads_active", len(self._runners))
        with contextlib.suppress(OSError):
            await asyncio.to_thread(self.store.save, task)
