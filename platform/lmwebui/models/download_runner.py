"""Runs one download task: attempts with Range resume and backoff, then verify + install.

Each attempt runs ``transfer.fetch`` in a worker thread; the event loop only samples its
progress (speed, events). Retryable failures (drops, stalls, 5xx) resume from the end of
the partial file; ``max_retries`` counts consecutive attempts that received nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from lmwebui.errors import InsufficientStorage
from lmwebui.models.catalog import ModelCatalog
from lmwebui.models.download_task import DownloadConfig, DownloadTask, TaskStore
from lmwebui.models.hub_policy import HubPolicy, UnsafeURL
from lmwebui.models.metadata import InvalidGGUF, read_gguf_info
from lmwebui.models.storage import StorageLimits, fsync_file, install_file, is_disk_full
from lmwebui.models.transfer import (
    Attempt,
    Progress,
    RestartFromZero,
    Stopped,
    TransferError,
    fetch,
    make_client,
)

MAX_PARALLEL_TRANSFERS = 16


class DownloadFailed(Exception):
    def __init__(self, error: str, message: str, code: str, *, resumable: bool) -> None:
        super().__init__(message)
        self.error, self.message, self.code, self.resumable = error, message, code, resumable


def _hash_file(path: Path, hasher: Any) -> None:
    with path.open("rb") as fh:
        while chunk := fh.read(8 * 1024 * 1024):
            hasher.update(chunk)


class DownloadRunner:
    def __init__(
        self,
        config: DownloadConfig,
        policy: HubPolicy,
        limits: StorageLimits,
        store: TaskStore,
        catalog: ModelCatalog,
        notify: Callable[[DownloadTask], None],
    ) -> None:
        self.config = config
        self.policy = policy
        self.limits = limits
        self.store = store
        self.catalog = catalog
        self.notify = notify
        self.models_dir = Path(config.models_dir)
        self.executor = ThreadPoolExecutor(MAX_PARALLEL_TRANSFERS, "gguf-download")
        self._auth: dict[str, str] | None = None
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        """Created on first use (an SSL context costs tens of ms; most apps never download)."""
        if self._client is None:
            c = self.config
            self._client = make_client(
                httpx.Timeout(
                    connect=c.connect_timeout_s,
                    read=c.read_timeout_s,
                    write=c.read_timeout_s,
                    pool=c.connect_timeout_s,
                )
            )
        return self._client

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        if self._client is not None:
            self._client.close()

    async def _auth_headers(self) -> dict[str, str]:
        """User-agent and HF_TOKEN authorization, as huggingface_hub builds them (once)."""
        if self._auth is None:
            from huggingface_hub.utils._headers import build_hf_headers

            self._auth = await asyncio.to_thread(build_hf_headers, library_name="lmwebui")
        return self._auth

    def check_space(self, needed: int) -> None:
        try:
            self.limits.check(self.models_dir, needed)
        except InsufficientStorage as exc:
            raise DownloadFailed(
                "Insufficient storage", exc.detail, exc.error_code, resumable=True
            ) from None

    async def run(self, task: DownloadTask) -> None:
        spec = task.spec
        part = self.store.part(task.task_id)
        await asyncio.to_thread(part.parent.mkdir, parents=True, exist_ok=True)
        hasher = hashlib.sha256()
        have = part.stat().st_size if part.exists() else 0
        if have > spec.size:
            await asyncio.to_thread(part.unlink)
            have = 0
        task.status = "running"
        task.downloaded = have
        self.notify(task)
        if have:
            await asyncio.to_thread(_hash_file, part, hasher)
        auth = await self._auth_headers()
        failures = 0
        while True:
            progress = Progress(have=have)
            task.range_starts.append(have)
            task.attempts += 1
            try:
                await self._attempt(task, Attempt(
                    self.policy, auth, spec.url, part, hasher, progress, spec.size,
                    self.client, threading.Event(), self.check_space, self.config.fsync,
                ))  # fmt: skip
                break
            except RestartFromZero:
                await asyncio.to_thread(part.unlink, missing_ok=True)
                hasher, have = hashlib.sha256(), 0
                task.downloaded = 0
            except UnsafeURL as exc:
                raise DownloadFailed(
                    "Refused redirect", f"Download refused: {exc}", "VALIDATION_ERROR",
                    resumable=False,
                ) from None  # fmt: skip
            except TransferError as exc:
                have = task.downloaded = progress.have
                if not exc.retry:
                    raise DownloadFailed(
                        exc.error, exc.message, exc.code, resumable=False
                    ) from None
                failures = 0 if progress.received else failures + 1
                if failures > self.config.max_retries:
                    raise DownloadFailed(
                        exc.error,
                        f"{exc.message}; gave up after {self.config.max_retries} retries "
                        "(start the download again to resume)",
                        "UPSTREAM_TIMEOUT" if exc.error == "Timeout" else exc.code,
                        resumable=True,
                    ) from None
                self.notify(task)
                await asyncio.sleep(min(0.25 * 2**failures, 10.0))
            except OSError as exc:
                if is_disk_full(exc):
                    raise DownloadFailed(
                        "Insufficient storage", "The disk is full", "INSUFFICIENT_STORAGE",
                        resumable=True,
                    ) from None  # fmt: skip
                raise
        await self._finalize(task, part, hasher)

    async def _attempt(self, task: DownloadTask, attempt: Attempt) -> None:
        """One fetch in a worker thread; progress sampled here. On cancellation the thread
        is told to stop and awaited, so nothing writes the part file afterwards."""
        base = task.transferred
        future = asyncio.get_running_loop().run_in_executor(self.executor, fetch, attempt)
        ticker = asyncio.ensure_future(self._tick(task, attempt.progress, base))
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            attempt.stop.set()
            with contextlib.suppress(Stopped, Exception):
                await future
            raise
        finally:
            ticker.cancel()
            task.transferred = base + attempt.progress.received
            task.downloaded = attempt.progress.have

    async def _tick(self, task: DownloadTask, progress: Progress, base: int) -> None:
        """Progress events at most every ``progress_interval_s``, with a smoothed speed."""
        last_t, last_have = time.monotonic(), progress.have
        while True:
            await asyncio.sleep(self.config.progress_interval_s)
            task.transferred = base + progress.received
            now, have = time.monotonic(), progress.have
            if have != task.downloaded:
                rate = (have - last_have) / (now - last_t)
                task.speed_bps = 0.5 * task.speed_bps + 0.5 * rate if task.speed_bps else rate
                task.downloaded = have
                last_t, last_have = now, have
                self.notify(task)

    async def _finalize(self, task: DownloadTask, part: Path, hasher: Any) -> None:
        spec = task.spec
        task.status = "verifying"
        task.downloaded = spec.size
        self.notify(task)
        digest = hasher.hexdigest()
        if spec.sha256 and digest != spec.sha256.lower():
            raise DownloadFailed(
                "Checksum mismatch",
                f"sha256 of the downloaded file ({digest[:12]}...) does not match the hub's "
                f"({spec.sha256[:12]}...); the file was discarded",
                "CHECKSUM_MISMATCH",
                resumable=False,
            )
        try:
            info = await asyncio.to_thread(read_gguf_info, part)
        except InvalidGGUF as exc:
            raise DownloadFailed(
                "Invalid GGUF", f"The downloaded file is not a valid GGUF file: {exc}",
                "VALIDATION_ERROR", resumable=False,
            ) from None  # fmt: skip
        target = self.models_dir / spec.filename
        if self.config.fsync:
            await asyncio.to_thread(fsync_file, part)
        try:
            # shielded: once the file is verified, a cancel cannot leave it half-installed
            await asyncio.shield(asyncio.to_thread(install_file, part, target))
        except FileExistsError:
            raise DownloadFailed(
                "Conflict", f"Model '{spec.filename}' appeared meanwhile", "CONFLICT",
                resumable=False,
            ) from None  # fmt: skip
        provenance = {
            "repo_id": spec.repo_id,
            "revision": spec.revision,
            "commit": spec.commit,
            "path": spec.path,
            "sha256": digest,
            "quantizations": spec.quantizations,
        }
        await asyncio.to_thread(self.catalog.record, spec.filename, target, info, provenance)
