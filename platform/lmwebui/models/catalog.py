"""Local GGUF models: listing with header metadata cached per file version.

The header of a file is read once per (size, mtime, inode): in memory in this process and
in a sidecar ``.metadata/<name>.json`` that every replica (and the next start) reuses.
Downloads also store their provenance there (repo, revision, sha256, the repo's
quantizations), which the compatibility check uses for its recommendation.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from lmwebui.errors import iso_utc
from lmwebui.filenames import human_size
from lmwebui.models.metadata import GGUFInfo, InvalidGGUF, read_gguf_info
from lmwebui.models.schemas import ListedModel, LocalModel, ModelSource, UnreadableModel
from lmwebui.models.storage import METADATA_DIR, is_valid_model_name

logger = logging.getLogger("lmwebui.models.catalog")
SIDECAR_VERSION = 1
SOURCE_KEYS = ("repo_id", "revision", "path", "sha256")


def _stamp(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ino]


class ModelCatalog:
    """Thread-safe; the blocking methods are meant for ``asyncio.to_thread``."""

    def __init__(self, models_dir: Path) -> None:
        self.models_dir = models_dir
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[list[int], dict[str, Any]]] = {}

    # ------------------------------------------------------------------ sidecars
    def _sidecar(self, name: str) -> Path:
        return self.models_dir / METADATA_DIR / f"{name}.json"

    def _read_sidecar(self, name: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self._sidecar(name).read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _write_sidecar(self, name: str, data: dict[str, Any]) -> None:
        folder = self.models_dir / METADATA_DIR
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
            with os.fdopen(fd, "w") as fh:
                json.dump(data, fh)
            os.replace(tmp, self._sidecar(name))
        except OSError as exc:  # a read-only models dir still lists fine
            logger.warning("cannot write metadata cache for %s: %s", name, exc)

    def entry(self, name: str, path: Path, st: os.stat_result) -> dict[str, Any]:
        """Cached {stamp, info|error, provenance} for one file version (blocking)."""
        stamp = _stamp(st)
        with self._lock:
            hit = self._cache.get(name)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        data = self._read_sidecar(name)
        if data is None or data.get("stamp") != stamp or data.get("v") != SIDECAR_VERSION:
            data = {"v": SIDECAR_VERSION, "stamp": stamp}
            try:
                data["info"] = read_gguf_info(path).to_dict()
            except InvalidGGUF as exc:
                data["error"] = str(exc)
            self._write_sidecar(name, data)
        with self._lock:
            self._cache[name] = (stamp, data)
        return data

    def info(self, name: str, path: Path) -> tuple[GGUFInfo | None, dict[str, Any]]:
        """(header info or None when invalid, provenance) for one file (blocking)."""
        data = self.entry(name, path, path.stat())
        info = GGUFInfo.from_dict(data["info"]) if "info" in data else None
        return info, dict(data.get("provenance") or {})

    def record(
        self, name: str, path: Path, info: GGUFInfo, provenance: dict[str, Any] | None = None
    ) -> None:
        """Store what an upload/download already parsed, so listing never re-reads it."""
        data: dict[str, Any] = {
            "v": SIDECAR_VERSION,
            "stamp": _stamp(path.stat()),
            "info": info.to_dict(),
        }
        if provenance:
            data["provenance"] = provenance
        self._write_sidecar(name, data)
        with self._lock:
            self._cache[name] = (data["stamp"], data)

    def forget(self, name: str) -> None:
        with self._lock:
            self._cache.pop(name, None)
        with contextlib.suppress(OSError):
            self._sidecar(name).unlink()

    # ------------------------------------------------------------------ listing
    def list_models(self, bundled: set[str]) -> list[ListedModel]:
        """Every ``*.gguf`` regular file directly in the models directory (blocking)."""
        out: list[ListedModel] = []
        try:
            entries = sorted(os.scandir(self.models_dir), key=lambda e: e.name)
        except FileNotFoundError:
            return out
        root = self.models_dir.resolve()
        for e in entries:
            if not e.name.endswith(".gguf") or not is_valid_model_name(e.name):
                continue
            try:
                if e.is_symlink():
                    target = Path(e.path).resolve()
                    if target.parent != root or not target.is_file():
                        continue  # never list (or read) a link pointing elsewhere
                elif not e.is_file(follow_symlinks=False):
                    continue
                st = os.stat(e.path)
                data = self.entry(e.name, Path(e.path), st)
            except OSError:
                continue  # deleted while listing
            out.append(self._describe(e.name, Path(e.path), st, data, bundled))
        return out

    def describe(self, name: str, path: Path, bundled: set[str]) -> ListedModel:
        st = path.stat()
        return self._describe(name, path, st, self.entry(name, path, st), bundled)

    @staticmethod
    def _describe(
        name: str, path: Path, st: os.stat_result, data: dict[str, Any], bundled: set[str]
    ) -> ListedModel:
        provenance = data.get("provenance") or {}
        listing: dict[str, Any] = {
            "name": name,
            "path": str(path),
            "size_bytes": st.st_size,
            "human_size": human_size(st.st_size),
            "modified": iso_utc(st.st_mtime, timespec="seconds"),
            "source": ModelSource(**{k: provenance[k] for k in SOURCE_KEYS if k in provenance})
            if provenance
            else None,
            "protected": name in bundled,
        }
        info = data.get("info")
        if info:
            return LocalModel(**listing, **GGUFInfo.from_dict(info).public())
        return UnreadableModel(**listing, error=data.get("error", "unreadable"))
