"""Stream a multipart upload to a temp file under a byte limit.

FastAPI's ``UploadFile`` reads the whole body before the endpoint runs; this parser writes
the ``file`` part to disk as it arrives and stops at the limit (413), deleting what it
wrote. A Content-Length above the limit is refused before reading anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from starlette.requests import Request

from lmwebui.errors import PayloadTooLarge, ValidationFailed

FORM_OVERHEAD = 64 * 1024  # other fields, part headers and boundaries
MAX_FIELD_BYTES = 4096
MULTIPART_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "conversation_id": {"type": "string"},
                    },
                }
            }
        },
    }
}


def human_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def clean_filename(name: str | None, default: str = "upload") -> str:
    """Base name only, no control characters, at most 255 characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if ch.isprintable())
    name = re.sub(r"\s+", " ", name).strip(" .")
    return name[:255] or default


@dataclass
class ReceivedUpload:
    path: Path
    filename: str
    size: int
    content_type: str | None
    fields: dict[str, str] = field(default_factory=dict)

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()

    def cleanup(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class _Receiver:
    def __init__(self, field_name: str, max_bytes: int, tmp_dir: Path) -> None:
        self.field_name = field_name
        self.max_bytes = max_bytes
        self.path = tmp_dir / f"upload-{uuid.uuid4().hex}.part"
        self.fh: IO[bytes] | None = None
        self.size = 0
        self.filename: str | None = None
        self.content_type: str | None = None
        self.fields: dict[str, str] = {}
        self.error: Exception | None = None
        self._headers: dict[str, str] = {}
        self._hname = b""
        self._hvalue = b""
        self._part: str | None = None  # "file", a field name, or "" (ignored part)
        self._buf = bytearray()
        self.files_seen = 0

    # python-multipart callbacks
    def on_part_begin(self) -> None:
        self._headers = {}
        self._part = None
        self._buf = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._hname += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._hvalue += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._hname.decode("latin-1").lower()] = self._hvalue.decode(
            "utf-8", "replace"
        )
        self._hname = self._hvalue = b""

    def on_headers_finished(self) -> None:
        from python_multipart.multipart import parse_options_header

        _, opts = parse_options_header(self._headers.get("content-disposition", ""))
        name = opts.get(b"name", b"").decode("utf-8", "replace")
        if name == self.field_name and b"filename" in opts:
            self.files_seen += 1
            if self.files_seen > 1:
                self.error = ValidationFailed(f"Send exactly one '{self.field_name}' part")
                self._part = ""
                return
            self.filename = opts[b"filename"].decode("utf-8", "replace")
            self.content_type = self._headers.get("content-type")
            self.fh = self.path.open("wb")
            self._part = "file"
        else:
            self._part = name

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error is not None:
            return
        if self._part == "file" and self.fh is not None:
            self.size += end - start
            if self.size > self.max_bytes:
                self.error = PayloadTooLarge(
                    f"The file is larger than the {human_bytes(self.max_bytes)} limit"
                )
                return
            self.fh.write(data[start:end])
        elif self._part:
            self._buf += data[start:end]
            if len(self._buf) > MAX_FIELD_BYTES:
                self.error = ValidationFailed(f"Form field '{self._part}' is too long")

    def on_part_end(self) -> None:
        if self._part == "file" and self.fh is not None:
            self.fh.close()
        elif self._part and self.error is None:
            self.fields[self._part] = self._buf.decode("utf-8", "replace")
        self._part = None

    def close(self) -> None:
        if self.fh is not None and not self.fh.closed:
            self.fh.close()

    def discard(self) -> None:
        self.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


async def receive_upload(
    request: Request, *, max_bytes: int, tmp_dir: Path, field_name: str = "file"
) -> ReceivedUpload:
    from python_multipart.exceptions import MultipartParseError
    from python_multipart.multipart import MultipartParser, parse_options_header

    ctype, opts = parse_options_header(request.headers.get("content-type", ""))
    boundary = opts.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise ValidationFailed(f"Send multipart/form-data with a '{field_name}' file part")
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes + FORM_OVERHEAD:
        raise PayloadTooLarge(f"The file is larger than the {human_bytes(max_bytes)} limit")
    await asyncio.to_thread(tmp_dir.mkdir, parents=True, exist_ok=True)
    rx = _Receiver(field_name, max_bytes, tmp_dir)
    parser = MultipartParser(
        boundary,
        callbacks={  # type: ignore[arg-type]
            name: getattr(rx, name)
            for name in (
                "on_part_begin",
                "on_header_field",
                "on_header_value",
                "on_header_end",
                "on_headers_finished",
                "on_part_data",
                "on_part_end",
            )
        },
    )
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes + FORM_OVERHEAD:
                raise PayloadTooLarge(
                    f"The request is larger than the {human_bytes(max_bytes)} limit"
                )
            parser.write(chunk)
            if rx.error is not None:
                raise rx.error
        parser.finalize()
        if rx.error is not None:
            raise rx.error
    except MultipartParseError as exc:
        rx.discard()
        raise ValidationFailed(f"Malformed multipart body: {exc}") from None
    except BaseException:
        rx.discard()
        raise
    rx.close()
    if rx.filename is None:
        rx.discard()
        raise ValidationFailed(f"The multipart field '{field_name}' (a file) is required")
    return ReceivedUpload(rx.path, clean_filename(rx.filename), rx.size, rx.content_type, rx.fields)
