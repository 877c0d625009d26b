"""One HTTP attempt of a download, run in a worker thread: policy-checked redirects, Range
resume; a second thread writes + hashes 4 MiB batches while the next ones are read.

A blocking client in a thread moves bytes at the speed of ``hf_hub_download`` (the asyncio
stack costs ~3x more CPU per 64 KiB read); the event loop only watches progress. The
thread checks ``stop`` between reads, so a cancel or shutdown takes effect within one read
(bounded by the read timeout).
"""

from __future__ import annotations

import os
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from lmwebui.models.hub_policy import HubPolicy

BATCH_BYTES = 4 * 1024 * 1024
SPACE_CHECK_BYTES = 64 * 1024 * 1024
WRITEBACK_BYTES = 64 * 1024 * 1024
MAX_REDIRECTS = 5
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class TransferError(Exception):
    """A failed attempt. ``retry``: try again (resuming); else the download fails."""

    def __init__(self, error: str, message: str, *, retry: bool, code: str = "UPSTREAM_ERROR"):
        super().__init__(message)
        self.error = error
        self.message = message
        self.retry = retry
        self.code = code


class RestartFromZero(Exception):
    """The server cannot resume this range: drop the partial file and start over."""


class Stopped(Exception):
    """The attempt was asked to stop (cancel or shutdown)."""


@dataclass
class Progress:
    """Shared between the transfer thread (single writer) and the event loop (reader)."""

    have: int  # bytes written to the part file (the resume offset)
    received: int = 0  # network bytes received in this attempt


@dataclass
class Attempt:
    policy: HubPolicy
    auth_headers: dict[str, str]
    url: str
    part: Path
    hasher: Any
    progress: Progress
    expected_size: int
    client: httpx.Client
    stop: threading.Event
    check_space: Callable[[int], None]
    writeback: bool = True  # start writeback every WRITEBACK_BYTES (durable downloads)


def _peer_address(response: httpx.Response) -> str | None:
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    addr = stream.get_extra_info("server_addr")
    return str(addr[0]) if isinstance(addr, tuple) and addr else None


def fetch(a: Attempt) -> None:
    """GET ``a.url`` from ``a.progress.have`` to the end into ``a.part`` (blocking). Raises
    TransferError, RestartFromZero, Stopped, or hub_policy.UnsafeURL (policy refusal)."""
    headers = {"Accept-Encoding": "identity"}
    if a.progress.have:
        headers["Range"] = f"bytes={a.progress.have}-"
    url = a.url
    client = a.client
    for _hop in range(MAX_REDIRECTS + 1):
        trusted = a.policy.trusted_host(url)
        if not trusted:
            a.policy.check_resolves_public(url)
        request = client.build_request(
            "GET", url, headers={**headers, **(a.auth_headers if trusted else {})}
        )
        try:
            response = client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise TransferError(
                "Timeout", f"The hub did not answer in time ({type(exc).__name__})", retry=True
            ) from None
        except httpx.TransportError as exc:
            raise TransferError("Network error", f"Connection failed: {exc}", retry=True) from None
        try:
            a.policy.check_peer(url, _peer_address(response))
            if response.is_redirect:
                location = response.headers.get("location")
                if not location:
                    raise TransferError("Bad redirect", "Redirect without Location", retry=False)
                url = a.policy.next_url(url, location)
                continue
            _consume(response, a)
            return
        finally:
            response.close()
    raise TransferError("Too many redirects", "The hub redirected too often", retry=False)


def _check_status(response: httpx.Response, a: Attempt) -> bool:
    """Whether there is a body to read (False: already complete)."""
    status, have, size = response.status_code, a.progress.have, a.expected_size
    if status == 416 and have >= size:
        return False
    if status == 416:
        raise RestartFromZero()
    if status in (401, 403, 404, 410):
        raise TransferError(
            "Not found",
            f"The hub answered HTTP {status}: the file is no longer available",
            retry=False,
            code="MODEL_NOT_FOUND",
        )
    if status == 429 or status >= 500:
        raise TransferError("Hub error", f"The hub answered HTTP {status}", retry=True)
    if status == 206:
        m = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
        if not m or int(m.group(1)) != have:
            raise RestartFromZero()
        if m.group(3) != "*" and int(m.group(3)) != size:
            raise TransferError("Size mismatch", "The file on the hub changed size", retry=False)
        return True
    if status == 200:
        if have:
            raise RestartFromZero()  # the server ignored Range
        length = response.headers.get("content-length")
        if length is not None and int(length) != size:
            raise TransferError("Size mismatch", "The file on the hub changed size", retry=False)
        return True
    raise TransferError("Hub error", f"Unexpected HTTP {status} from the hub", retry=False)


class _Writer:
    """Writes and hashes batches in its own thread, so hashing overlaps the next reads
    (hashlib and file writes release the GIL). Bounded: at most ``QUEUE_BATCHES`` waiting."""

    QUEUE_BATCHES = 4

    def __init__(self, part: Path, hasher: Any, progress: Progress, writeback: bool) -> None:
        self.writeback = writeback
        self.fh = part.open("ab")
        self.hasher = hasher
        self.progress = progress
        self.flushed_to = progress.have
        self.queue: queue.Queue[bytearray | None] = queue.Queue(self.QUEUE_BATCHES)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="gguf-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (batch := self.queue.get()) is not None:
            if self.error is not None:
                continue  # drain after a failure
            try:
                self.fh.write(batch)
                self.hasher.update(batch)
                self.progress.have += len(batch)  # only bytes on disk count for a resume
                if self.writeback and self.progress.have - self.flushed_to >= WRITEBACK_BYTES:
                    self._start_writeback()
            except BaseException as exc:
                self.error = exc

    def _start_writeback(self) -> None:
        """Start (not wait for) writeback of what was written, so the final fsync has little
        left to do and a huge download never piles up dirty pages. It paces the transfer to
        the disk's write speed when the network is faster than the disk."""
        self.fh.flush()
        n = self.progress.have - self.flushed_to
        os.posix_fadvise(self.fh.fileno(), self.flushed_to, n, os.POSIX_FADV_DONTNEED)
        self.flushed_to = self.progress.have

    def put(self, batch: bytearray) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(batch)

    def close(self) -> None:
        """Everything queued is on disk (also after an error mid-stream)."""
        self.queue.put(None)
        self.thread.join()
        self.fh.close()
        if self.error is not None:
            raise self.error


def _consume(response: httpx.Response, a: Attempt) -> None:
    if not _check_status(response, a):
        return
    p = a.progress
    start = p.have
    buf = bytearray()
    checked_at = start
    writer = _Writer(a.part, a.hasher, p, a.writeback)
    try:
        for chunk in response.iter_raw():
            if a.stop.is_set():
                raise Stopped()
            if start + p.received + len(chunk) > a.expected_size:
                raise TransferError(
                    "Size mismatch", "The hub sent more bytes than announced", retry=False
                )
            buf += chunk
            p.received += len(chunk)
            if len(buf) >= BATCH_BYTES:
                writer.put(buf)
                buf = bytearray()
                if start + p.received - checked_at >= SPACE_CHECK_BYTES:
                    checked_at = start + p.received
                    a.check_space(a.expected_size - checked_at)
    except httpx.TimeoutException:
        raise TransferError(
            "Timeout", "The hub stopped sending data (read timeout)", retry=True
        ) from None
    except httpx.TransportError as exc:
        raise TransferError("Network error", f"Connection lost: {exc}", retry=True) from None
    finally:
        if buf:
            writer.put(buf)  # every byte received is kept: the next attempt resumes after it
        writer.close()
    if p.have < a.expected_size:
        raise TransferError("Network error", "The connection closed early", retry=True)


def make_client(timeout: httpx.Timeout) -> httpx.Client:
    """One shared, thread-safe client. No redirects followed (the policy checks each hop);
    trust_env=False: no proxy from the environment, so the policy sees the real peers."""
    return httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False)
