"""The models directory: safe names, space checks, atomic installs, hidden work folders.

Work files live in hidden folders of the models directory itself (same filesystem, so the
final step is an atomic link/rename) and are never listed as models:
``.downloads/`` (``<task>.part`` + ``<task>.json``), ``.uploads/`` and ``.metadata/``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from lmwebui.errors import InsufficientStorage, ModelNotFound, ValidationFailed
from lmwebui.filenames import clean_filename, human_size

DOWNLOADS_DIR = ".downloads"
UPLOADS_DIR = ".uploads"
METADATA_DIR = ".metadata"
MAX_NAME_CHARS = 200
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*\.gguf$")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._+-]+")


def is_valid_model_name(name: str) -> bool:
    return (
        len(name) <= MAX_NAME_CHARS
        and bool(_SAFE_NAME.match(name))
        and ".." not in name
        and Path(name).name == name
    )


def check_model_name(name: str) -> str:
    """A name that may be used as a file in the models directory, or 400."""
    if not is_valid_model_name(name):
        raise ValidationFailed(
            "Invalid model name: use a plain file name ending in .gguf (letters, digits, "
            "'.', '_', '-', '+'; no paths)"
        )
    return name


def sanitize_filename(raw: str) -> str:
    """An uploaded/remote file name as a model name: the package's file-name cleaning
    (``clean_filename``: last path component, no control characters), then only
    ``[A-Za-z0-9._+-]`` (others become ``_``). 400 when no ``.gguf`` name remains."""
    base = unicodedata.normalize("NFKC", clean_filename(raw, default=""))
    base = _UNSAFE_CHARS.sub("_", base).strip("._-")
    while ".." in base:
        base = base.replace("..", ".")
    if not base.lower().endswith(".gguf"):
        raise ValidationFailed("Only .gguf files are accepted (file name must end in .gguf)")
    base = base[: -len(".gguf")] + ".gguf"
    if len(base) > MAX_NAME_CHARS:
        base = base[: MAX_NAME_CHARS - 5] + ".gguf"
    return check_model_name(base)


def model_file(models_dir: Path, name: str) -> Path:
    """The regular file for ``name`` directly inside models_dir, or 404. Never follows a
    symlink out of the directory; the name must already be valid (see check_model_name)."""
    path = models_dir / name
    try:
        st = path.lstat()
    except OSError:
        raise ModelNotFound(f"Model '{name}' not found") from None
    if path.is_symlink():
        target = path.resolve()
        if target.parent != models_dir.resolve() or not target.is_file():
            raise ModelNotFound(f"Model '{name}' not found")
    elif not os.path.isfile(path) or st.st_nlink < 1:
        raise ModelNotFound(f"Model '{name}' not found")
    return path


@dataclass(frozen=True)
class StorageLimits:
    reserve_free_bytes: int
    max_storage_bytes: int | None

    def used_bytes(self, models_dir: Path) -> int:
        total = 0
        for root, _dirs, files in os.walk(models_dir):
            for f in files:
                with contextlib.suppress(OSError):
                    total += os.lstat(os.path.join(root, f)).st_size
        return total

    def check(self, models_dir: Path, needed: int) -> None:
        """507 unless ``needed`` more bytes fit (disk free space and the quota)."""
        models_dir.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(models_dir).free
        if free - needed < self.reserve_free_bytes:
            raise InsufficientStorage(
                f"Not enough disk space: {human_size(needed)} needed, {human_size(free)} free "
                f"({human_size(self.reserve_free_bytes)} kept in reserve)"
            )
        if self.max_storage_bytes is not None:
            used = self.used_bytes(models_dir)
            if used + needed > self.max_storage_bytes:
                raise InsufficientStorage(
                    f"Models storage quota exceeded: {human_size(used)} used + "
                    f"{human_size(needed)} needed > {human_size(self.max_storage_bytes)}"
                )


def is_disk_full(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)


def install_file(tmp: Path, target: Path) -> None:
    """Move a finished temp file to its final name atomically, never overwriting: a hard
    link fails with FileExistsError if the name exists; rename is the fallback where
    links are not supported (checked first, so only a concurrent writer can race)."""
    os.chmod(tmp, 0o644)
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise
    except OSError:
        if target.exists():
            raise FileExistsError(errno.EEXIST, "exists", str(target)) from None
        os.replace(tmp, target)
        return
    os.unlink(tmp)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
