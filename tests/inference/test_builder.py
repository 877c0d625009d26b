"""The engine options a replica runs come from the chat settings, through one function."""

from __future__ import annotations

import os

import pytest

from lmwebui.inference.engine import EngineConfig
from lmwebui.settings import ChatSettings, Settings


def test_engine_options_come_from_the_chat_settings() -> None:
    chat = Settings(
        chat={"n_slots": 3, "n_ctx_per_slot": 512, "flash_attn": False, "deterministic": True}
    ).chat
    config = EngineConfig.from_settings(chat, "m.gguf")
    assert config.model_path == "m.gguf"
    assert (config.n_slots, config.n_ctx_per_slot) == (3, 512)
    assert (config.flash_attn, config.deterministic, config.n_gpu_layers) == (False, True, 0)
    # what the host decides itself (ChatGGUF on a GPU replica) overrides the settings
    assert EngineConfig.from_settings(chat, "m.gguf", n_gpu_layers=-1).n_gpu_layers == -1


def test_engine_defaults_are_the_settings_defaults() -> None:
    """An engine built directly (tests, benchmarks) runs like a replica on default settings."""
    direct = EngineConfig(model_path="m.gguf")
    from_settings = EngineConfig.from_settings(ChatSettings.model_construct(), "m.gguf")
    assert direct.resolved_threads() == from_settings.resolved_threads()
    assert direct == EngineConfig(
        model_path="m.gguf",
        n_slots=from_settings.n_slots,
        n_ctx_per_slot=from_settings.n_ctx_per_slot,
        n_gpu_layers=from_settings.n_gpu_layers,
        flash_attn=from_settings.flash_attn,
        deterministic=from_settings.deterministic,
    )


def test_single_stream_threads_default_to_half_of_the_threads() -> None:
    def threads(**chat: int) -> tuple[int | None, int | None]:
        config = EngineConfig.from_settings(Settings(chat=chat).chat, "m.gguf")
        return config.n_threads, config.n_threads_single

    assert threads(n_threads=8) == (8, 4)
    assert threads(n_threads=1) == (1, 1)
    assert threads(n_threads=8, n_threads_single=8) == (8, 8)
    cores = os.cpu_count() or 1
    assert threads() == (cores, max(1, cores // 2))
    # the engine applies the same rule to a config built directly
    assert EngineConfig(model_path="m.gguf", n_threads=6).resolved_threads() == (6, 3)
    capped = EngineConfig(model_path="m.gguf", n_threads=2, n_threads_single=4)
    assert capped.resolved_threads() == (2, 2)


def test_engine_rejects_zero_single_stream_threads() -> None:
    with pytest.raises(ValueError, match="n_threads_single"):
        EngineConfig(model_path="x.gguf", n_threads_single=0).validate()
