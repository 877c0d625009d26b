"""What a file is, from its bytes (the name only separates HTML/Markdown/plain text)."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from lmwebui.errors import UnsupportedMediaType, ValidationFailed

IMAGE_MIME = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
}
MIME = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "html": "text/html",
    "markdown": "text/markdown",
    "text": "text/plain",
}
SUPPORTED = "PDF, DOCX, PPTX, HTML, Markdown, plain text, PNG, JPEG, GIF, WEBP, BMP, TIFF"

_MD_LINE = re.compile(r"^(#{1,6}\s+\S|```|\s{0,3}[-*+]\s+\S|\s{0,3}\d+\.\s+\S|>\s)", re.M)
_MD_LINK = re.compile(r"\[[^\]\n]+\]\([^)\s]+\)")
_HTML_START = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b", re.I | re.S
)
_HTML_TAG = re.compile(r"<(p|div|h[1-6]|table|ul|ol|li|span|a|br|article|section)\b[^>]*>", re.I)


@dataclass(frozen=True)
class Sniffed:
    kind: str  # pdf, docx, pptx, html, markdown, text, image
    mime: str
    image_format: str | None = None


def _image_format(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:2] == b"BM" and len(head) >= 26:
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    return None


def _office_kind(data: bytes) -> str:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ValidationFailed(
            f"The file looks like a ZIP container but is corrupt: {exc}"
        ) from None
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if any(n.startswith("xl/") for n in names):
        raise UnsupportedMediaType(f"Spreadsheets are not supported (supported: {SUPPORTED})")
    raise UnsupportedMediaType(f"ZIP archives are not supported (supported: {SUPPORTED})")


def decode_text(data: bytes) -> str | None:
    """The text of a text file, or None when the bytes are binary."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in data[:65536]:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    sample = text[:65536]
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f")
    bad = sample.count("\ufffd")
    if sample and (control + bad) / len(sample) > 0.02:
        return None
    return text


def sniff(data: bytes, filename: str) -> Sniffed:
    """Raises ValidationFailed (empty, corrupt container) or UnsupportedMediaType."""
    if not data.strip():
        raise ValidationFailed("The file is empty")
    head = data[:1024]
    if b"%PDF-" in head:
        return Sniffed("pdf", MIME["pdf"])
    image = _image_format(head)
    if image:
        return Sniffed("image", IMAGE_MIME[image], image)
    if head.startswith(b"PK\x03\x04"):
        kind = _office_kind(data)
        return Sniffed(kind, MIME[kind])
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnsupportedMediaType(
            f"Legacy Office files (.doc/.ppt/.xls) are not supported; save as DOCX/PPTX "
            f"(supported: {SUPPORTED})"
        )
    text = decode_text(data)
    if text is None:
        raise UnsupportedMediaType(f"Unsupported or binary file type (supported: {SUPPORTED})")
    if not text.strip():
        raise ValidationFailed("The file is empty")
    name = filename.lower()
    if _HTML_START.match(data[:4096]) or (
        name.endswith((".html", ".htm", ".xhtml")) and _HTML_TAG.search(text[:65536])
    ):
        return Sniffed("html", MIME["html"])
    if name.endswith((".md", ".markdown", ".mdown", ".mkd")) or (
        not name.endswith(".txt")
        and (len(_MD_LINE.findall(text[:65536])) >= 2 or _MD_LINK.search(text[:65536]))
    ):
        return Sniffed("markdown", MIME["markdown"])
    return Sniffed("text", MIME["text"])
