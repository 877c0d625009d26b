"""The bundled GGUF model for tests, assembled once into a cache directory."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lmwebui.models.files import BUNDLED_MODEL, ensure_bundled_model

CACHE = Path(os.environ.get("LMWEBUI_TEST_MODEL_DIR", "/tmp/lmwebui-test-models"))


def bundled_model_path() -> Path:
    return ensure_bundled_model(CACHE)


def models_dir_with_bundled(target: Path) -> Path:
    """A models directory holding (a hard link to) the bundled model."""
    target.mkdir(parents=True, exist_ok=True)
    dest = target / BUNDLED_MODEL
    if not dest.exists():
        src = bundled_model_path()
        try:
            os.link(src, dest)
        except OSError:
            shutil.copy2(src, dest)
    return target
