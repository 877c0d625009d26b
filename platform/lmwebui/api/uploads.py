"""The one streaming multipart receiver behind every upload route.

The ``file`` part goes to ``<tmp_dir>/<uuid>.part`` while the body streams in (memory stays
flat: a 4 MiB write buffer, whatever the file size); other form fields are kept as short
strings. What differs between routes is a target (see ``UploadTarget``): where the part
file goes, the size limit, an idle timeout, a disk-space check and what the client's file
name becomes. The same answers everywhere:

- not ``multipart/form-data`` (with a boundary): 415 ``UNSUPPORTED_MEDIA_TYPE``;
- no ``file`` part with a filename, two of them, a malformed body or an oversized field:
  400 ``VALIDATION_ERROR``;
- larger than the limit (the Content-Length up front, then while reading): 413;
- no data for ``idle_timeout_s``: 408; the disk check or a full disk: 507.

Whatever fails (a client that disconnects included), the part file is removed; on success
it is removed when the ``async with`` block ends, unless the caller moved it away.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from lmwebui.errors import (
    InsufficientStorage,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
    ValidationFailed,
)
from lmwebui.filenames import clean_filename, human_size

FIELD = "file"
WRITE_BATCH = 4 * 1024 * 1024
SPACE_CHECK_EVERY = 256 * 1024 * 1024
MAX_FIELD_BYTES = 4096  # one form field other than the file
MAX_FORM_BYTES = 64 * 1024  # all such fields together; all part headers together
FORM_OVERHEAD = 64 * 1024  # boundaries, part headers and fields around the file


def multipart_openapi(*fields: str) -> dict[str, Any]:
    """OpenAPI request body of an upload route: a required ``file`` and optional fields."""
    properties: dict[str, Any] = {FIELD: {"type": "string", "format": "binary"}}
    properties.update({name: {"type": "string"} for name in fields})
    schema = {"type": "object", "required": [FIELD], "properties": properties}
    return {
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": schema}},
        }
    }


class UploadTarget(Protocol):
    """Where and under which limits the receiver writes the ``file`` part."""

    @property
    def tmp_dir(self) -> Path: ...  # created if missing; same filesystem as the final home

    @property
    def max_bytes(self) -> int: ...

    @property
    def idle_timeout_s(self) -> float | None: ...

    def check_space(self, needed: int) -> None:
        """Raise (507) unless ``needed`` more bytes may be written."""

    def accept_filename(self, raw: str) -> str:
        """The name to keep for the client's file name; raise to refuse the upload before
        a byte of it is written."""


@dataclass(frozen=True)
class TempUpload:
    """A file processed and then dropped: any (cleaned) name, no space check."""

    tmp_dir: Path
    max_bytes: int
    idle_timeout_s: float | None = None

    def check_space(self, needed: int) -> None:
        return None

    def accept_filename(self, raw: str) -> str:
        return clean_filename(raw)


@dataclass
class ReceivedUpload:
    path: Path
    filename: str
    size: int
    content_type: str | None
    fields: dict[str, str] = field(default_factory=dict)

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()


@contextlib.asynccontextmanager
async def receive_upload(request: Request, target: UploadTarget) -> AsyncIterator[ReceivedUpload]:
    """``async with receive_upload(request, target) as upload:`` the ``file`` part on disk."""
    receiver = _Receiver(target)
    try:
        yield await receiver.receive(
            request.headers.get("content-type", ""),
            request.headers.get("content-length"),
            request.stream(),
        )
    finally:
        await receiver.discard()


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The file is larger than the {human_size(max_bytes)} limit")


class _Events:
    """python-multipart callbacks -> (kind, payload) items, handled after each write."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Any]] = []
        self.header_bytes = 0
        self._name = b""
        self._value = b""
        self._headers: dict[str, str] = {}

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda d, s, e: self._add("_name", d[s:e]),
            "on_header_value": lambda d, s, e: self._add("_value", d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": lambda: self.items.append(("headers", self._headers)),
            "on_part_data": lambda d, s, e: self.items.append(("data", bytes(d[s:e]))),
            "on_part_end": lambda: self.items.append(("end", None)),
        }

    def _add(self, attr: str, data: bytes) -> None:
        self.header_bytes += len(data)
        if self.header_bytes > MAX_FORM_BYTES:
            raise ValidationFailed("Multipart headers too large")
        setattr(self, attr, getattr(self, attr) + data)

    def _begin(self) -> None:
        self._headers = {}

    def _header_end(self) -> None:
        self._headers[self._name.decode("latin-1").lower()] = self._value.decode("utf-8", "replace")
        self._name = self._value = b""


class _Receiver:
    def __init__(self, target: UploadTarget) -> None:
        self.target = target
        self.path: Path | None = None
        self.fh: BinaryIO | None = None
        self.filename: str | None = None
        self.content_type: str | None = None
        self.size = 0
        self.buf = bytearray()
        self.part: str | None = None  # FIELD, another field's name, or None (ignored)
        self.file_done = False
        self.fields: dict[str, str] = {}
        self.field_buf = bytearray()
        self.field_bytes = 0

    async def receive(
        self, content_type: str, content_length: str | None, stream: AsyncIterator[bytes]
    ) -> ReceivedUpload:
        max_bytes = self.target.max_bytes
        ctype, params = parse_options_header(content_type)
        if ctype != b"multipart/form-data" or not params.get(b"boundary"):
            raise UnsupportedMediaType(f"Send multipart/form-data with a '{FIELD}' file part")
        if content_length and content_length.isdigit():
            if int(content_length) > max_bytes + FORM_OVERHEAD:
                raise _too_large(max_bytes)
            self.target.check_space(int(content_length))
        events = _Events()
        parser = MultipartParser(params[b"boundary"], events.callbacks())  # type: ignore[arg-type]
        received = 0
        try:
            async for chunk in self._chunks(stream):
                received += len(chunk)
                if received > max_bytes + FORM_OVERHEAD:
                    raise _too_large(max_bytes)
                try:
                    parser.write(chunk)
                except FormParserError as exc:
                    raise ValidationFailed(f"Malformed multipart body: {exc}") from None
                await self._handle(events.items)
                events.items.clear()
            try:
                parser.finalize()
            except FormParserError as exc:
                raise ValidationFailed(f"Malformed multipart body: {exc}") from None
            await self._handle(events.items)
            if self.filename is None or not self.file_done:
                raise ValidationFailed(f"The multipart field '{FIELD}' (a file) is required")
            await self._flush()
            assert self.fh is not None and self.path is not None
            await asyncio.to_thread(self.fh.close)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise InsufficientStorage("The disk is full") from None
            raise
        return ReceivedUpload(self.path, self.filename, self.size, self.content_type, self.fields)

    async def _chunks(self, stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        timeout = self.target.idle_timeout_s
        iterator = stream.__aiter__()
        while True:
            try:
                chunk = await asyncio.wait_for(iterator.__anext__(), timeout)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise RequestTimeout("Upload stalled: no data received in time") from None
            if chunk:
                yield chunk

    async def _handle(self, items: list[tuple[str, Any]]) -> None:
        for kind, payload in items:
            if kind == "headers":
                await self._part_begins(payload)
            elif kind == "data":
                if self.part == FIELD:
                    await self._file_data(payload)
                elif self.part is not None:
                    self._field_data(payload)
            elif kind == "end":
                if self.part == FIELD:
                    self.file_done = True
                elif self.part is not None:
                    self.fields[self.part] = self.field_buf.decode("utf-8", "replace")
                self.part = None

    async def _part_begins(self, headers: dict[str, str]) -> None:
        # bytes: given a str, the parser encodes it as latin-1 (a UTF-8 file name fails)
        disposition, opts = parse_options_header(
            headers.get("content-disposition", "").encode("utf-8")
        )
        name = opts.get(b"name", b"").decode("utf-8", "replace")
        raw_filename = opts.get(b"filename")
        self.field_buf = bytearray()
        if disposition != b"form-data":
            self.part = None
        elif name != FIELD or raw_filename is None:
            self.part = name or None
        else:
            if self.filename is not None:
                raise ValidationFailed(f"Send exactly one '{FIELD}' part")
            self.filename = self.target.accept_filename(raw_filename.decode("utf-8", "replace"))
            self.content_type = headers.get("content-type")
            tmp_dir = self.target.tmp_dir
            await asyncio.to_thread(tmp_dir.mkdir, parents=True, exist_ok=True)
            self.path = tmp_dir / f"{uuid.uuid4().hex}.part"
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            self.fh = os.fdopen(fd, "wb")
            self.part = FIELD

    def _field_data(self, data: bytes) -> None:
        self.field_bytes += len(data)
        self.field_buf += data
        if len(self.field_buf) > MAX_FIELD_BYTES or self.field_bytes > MAX_FORM_BYTES:
            raise ValidationFailed(f"Form field '{self.part}' is too long")

    async def _file_data(self, data: bytes) -> None:
        before = self.size
        self.size += len(data)
        if self.size > self.target.max_bytes:
            raise _too_large(self.target.max_bytes)
        if self.size // SPACE_CHECK_EVERY != before // SPACE_CHECK_EVERY:
            self.target.check_space(WRITE_BATCH)
        self.buf += data
        if len(self.buf) >= WRITE_BATCH:
            await self._flush()

    async def _flush(self) -> None:
        if self.buf and self.fh is not None:
            data = bytes(self.buf)
            self.buf.clear()
            await asyncio.to_thread(self.fh.write, data)

    async def discard(self) -> None:
        """Close and remove the part file (gone already if the caller installed it)."""
        if self.fh is not None and not self.fh.closed:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(self.fh.close)
        if self.path is not None:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(self.path.unlink, missing_ok=True)
