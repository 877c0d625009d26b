"""Names and sizes shown to people: the one client file-name sanitiser and the one byte
formatter of the package (API fields such as ``human_size`` and error messages)."""

from __future__ import annotations

import re
import unicodedata

MAX_FILENAME_CHARS = 255


def clean_filename(raw: str | None, default: str = "upload") -> str:
    """A client's file name reduced to a base name: the last path component (``/`` or
    ``\\``), NFC, no control characters, runs of white space folded, no leading or trailing
    dots and spaces, at most 255 characters; ``default`` when nothing is left."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if ch.isprintable())
    name = re.sub(r"\s+", " ", name).strip(" .")
    return name[:MAX_FILENAME_CHARS] or default


def human_size(n: int | float) -> str:
    """Decimal units as in the API reference: 4200000000 -> "4.2 GB", 512 -> "512 B"."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")
