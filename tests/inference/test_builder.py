"""Engine defaults the platform derives from its settings."""

from __future__ import annotations

import pytest

from lmwebui.inference.builder import engine_defaults
from lmwebui.inference.engine import EngineConfig
from lmwebui.settings import Settings


def test_single_stream_threads_default_to_half_of_the_threads() -> None:
    assert engine_defaults(Settings(chat={"n_threads": 8})).n_threads_single == 4
    assert engine_defaults(Settings(chat={"n_threads": 1})).n_threads_single == 1
    explicit = Settings(chat={"n_threads": 8, "n_threads_single": 8})
    assert engine_defaults(explicit).n_threads_single == 8


def test_engine_rejects_zero_single_stream_threads() -> None:
    with pytest.raises(ValueError, match="n_threads_single"):
        EngineConfig(model_path="x.gguf", n_threads_single=0).validate()
