"""Streamed GGUF uploads: multipart parsed on the fly straight into a hidden temp file.

Memory stays flat (a 4 MiB write buffer, whatever the file size); the size limit, the
disk/quota reserve and an idle timeout are enforced while reading; the file appears under
its name only after the GGUF header validated, by an atomic link that never overwrites.
Any failure (including a client that disconnects) removes the temp file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, BinaryIO

import python_multipart
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

from lmwebui.errors import (
    Conflict,
    InsufficientStorage,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
    ValidationFailed,
)
from lmwebui.models.metadata import InvalidGGUF, read_gguf_info
from lmwebui.models.storage import (
    UPLOADS_DIR,
    fsync_file,
    human_size,
    install_file,
    is_disk_full,
    sanitize_filename,
)

WRITE_BATCH = 4 * 1024 * 1024
SPACE_CHECK_EVERY = 256 * 1024 * 1024
MAX_FIELD_BYTES = 64 * 1024
MULTIPART_OVERHEAD = 64 * 1024


class _Events:
    """python-multipart callbacks -> a list of (kind, payload) handled after each write."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Any]] = []
        self._field = b""
        self._value = b""
        self._headers: dict[str, str] = {}

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda d, s, e: self._add("_field", d[s:e]),
            "on_header_value": lambda d, s, e: self._add("_value", d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": lambda: self.items.append(("headers", self._headers)),
            "on_part_data": lambda d, s, e: self.items.append(("data", bytes(d[s:e]))),
            "on_part_end": lambda: self.items.append(("end", None)),
        }

    def _add(self, attr: str, data: bytes) -> None:
        value = getattr(self, attr) + data
        if len(value) > MAX_FIELD_BYTES:
            raise ValidationFailed("Multipart header too large")
        setattr(self, attr, value)

    def _begin(self) -> None:
        self._headers = {}

    def _header_end(self) -> None:
        self._headers[self._field.decode("latin-1").lower()] = self._value.decode("latin-1")
        self._field = self._value = b""


class UploadReceiver:
    def __init__(
        self,
        models_dir: Path,
        max_bytes: int,
        check_space: Any,
        idle_timeout_s: float,
        fsync: bool = True,
    ) -> None:
        self.fsync = fsync
        self.models_dir = models_dir
        self.max_bytes = max_bytes
        self.check_space = check_space
        self.idle_timeout_s = idle_timeout_s
        self.tmp: Path | None = None
        self.fh: BinaryIO | None = None
        self.name: str | None = None
        self.size = 0
        self.buf = bytearray()
        self.in_file = False
        self.file_done = False
        self.field_bytes = 0

    async def receive(
        self, content_type: str, content_length: str | None, stream: AsyncIterator[bytes]
    ) -> dict[str, Any]:
        ctype, params = parse_options_header(content_type)
        if ctype != b"multipart/form-data" or b"boundary" not in params:
            raise UnsupportedMediaType("Upload must be multipart/form-data with a 'file' field")
        if content_length and content_length.isdigit():
            if int(content_length) > self.max_bytes + MULTIPART_OVERHEAD:
                raise PayloadTooLarge(f"File exceeds the {human_size(self.max_bytes)} limit")
            self.check_space(int(content_length))
        events = _Events()
        parser = python_multipart.MultipartParser(
            params[b"boundary"],
            events.callbacks(),  # type: ignore[arg-type]
        )
        installed = False
        try:
            async for chunk in self._chunks(stream):
                try:
                    parser.write(chunk)
                except FormParserError:
                    raise ValidationFailed("Malformed multipart body") from None
                await self._handle(events.items)
                events.items.clear()
            parser.finalize()
            await self._handle(events.items)
            if self.name is None or not self.file_done:
                raise ValidationFailed("Multipart field 'file' (with a filename) is required")
            await self._flush()
            assert self.fh is not None and self.tmp is not None
            await asyncio.to_thread(self.fh.close)
            if self.size == 0:
                raise ValidationFailed("Uploaded file is empty")
            try:
                info = await asyncio.to_thread(read_gguf_info, self.tmp)
            except InvalidGGUF as exc:
                raise ValidationFailed(f"Not a valid GGUF file: {exc}") from None
            if self.fsync:
                await asyncio.to_thread(fsync_file, self.tmp)
            target = self.models_dir / self.name
            try:
                await asyncio.to_thread(install_file, self.tmp, target)
            except FileExistsError:
                raise Conflict(f"Model '{self.name}' already exists") from None
            installed = True
            return {"filename": self.name, "size": self.size, "path": target, "info": info}
        except OSError as exc:
            if is_disk_full(exc):
                raise InsufficientStorage("The disk is full") from None
            raise
        finally:
            await self._cleanup(installed)

    async def _chunks(self, stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        iterator = stream.__aiter__()
        while True:
            try:
                chunk = await asyncio.wait_for(iterator.__anext__(), self.idle_timeout_s)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise RequestTimeout("Upload stalled: no data received in time") from None
            if chunk:
                yield chunk

    async def _handle(self, items: list[tuple[str, Any]]) -> None:
        for kind, payload in items:
            if kind == "headers":
                await self._part_headers(payload)
            elif kind == "data":
                if self.in_file:
                    await self._file_data(payload)
                else:
                    self.field_bytes += len(payload)
                    if self.field_bytes > MAX_FIELD_BYTES:
                        raise ValidationFailed("Form fields other than 'file' are too large")
            elif kind == "end" and self.in_file:
                self.in_file = False
                self.file_done = True

    async def _part_headers(self, headers: dict[str, str]) -> None:
        disposition, opts = parse_options_header(headers.get("content-disposition", ""))
        field = opts.get(b"name", b"").decode("utf-8", "replace")
        raw_name = opts.get(b"filename")
        if disposition != b"form-data" or field != "file" or raw_name is None:
            return  # another field: counted, ignored
        if self.name is not None:
            raise ValidationFailed("Upload exactly one file")
        name = sanitize_filename(raw_name.decode("utf-8", "replace"))
        if (self.models_dir / name).exists():
            raise Conflict(f"Model '{name}' already exists")
        folder = self.models_dir / UPLOADS_DIR
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        self.tmp = folder / f"{uuid.uuid4().hex}.part"
        fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.fh = os.fdopen(fd, "wb")
        self.name = name
        self.in_file = True

    async def _file_data(self, data: bytes) -> None:
        before = self.size
        self.size += len(data)
        if self.size > self.max_bytes:
            raise PayloadTooLarge(f"File exceeds the {human_size(self.max_bytes)} limit")
        if self.size // SPACE_CHECK_EVERY != before // SPACE_CHECK_EVERY:
            self.check_space(WRITE_BATCH)
        self.buf += data
        if len(self.buf) >= WRITE_BATCH:
            await self._flush()

    async def _flush(self) -> None:
        if self.buf and self.fh is not None:
            data = bytes(self.buf)
            self.buf.clear()
            await asyncio.to_thread(self.fh.write, data)

    async def _cleanup(self, installed: bool) -> None:
        if self.fh is not None and not self.fh.closed:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(self.fh.close)
        if self.tmp is not None and not installed:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(self.tmp.unlink, missing_ok=True)
        elif self.tmp is not None:
            with contextlib.suppress(OSError):
                self.tmp.unlink(missing_ok=True)
