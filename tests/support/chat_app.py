"""The in-process app with the real GGUF engine (the bundled model; module-scoped fixtures
load it once per module)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from lmwebui.api.services import Runtime
from lmwebui.chat.engines.base import ChatEngine
from lmwebui.inference.builder import build_gguf_engine
from lmwebui.settings import Settings
from tests.support.app import app_client, make_settings
from tests.support.models import models_dir_with_bundled


def gguf_engines(settings: Settings) -> dict[str, ChatEngine]:
    """Runtime.chat_engines for the real in-process GGUF engine."""
    engine, _pool = build_gguf_engine(settings)
    return {"gguf": engine}


def chat_app_client(
    base: Path, database_url: str | None = None, **overrides: Any
) -> Iterator[TestClient]:
    overrides.setdefault("rate_limits", {"enabled": False})
    overrides.setdefault("chat", {"n_slots": 4, "n_ctx_per_slot": 1024})
    settings = make_settings(
        base,
        models_dir=models_dir_with_bundled(base / "models"),
        database_url=database_url,
        **overrides,
    )
    with app_client(settings, Runtime(chat_engines=gguf_engines)) as client:
        yield client
