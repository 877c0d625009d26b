"""The in-process app with the real GGUF engine (the bundled model; module-scoped fixtures
load it once per module)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from lmwebui.api.services import Runtime
from lmwebui.chat.engines.base import ChatEngine
from lmwebui.inference.builder import build_gguf_engine
from lmwebui.settings import Settings
from tests.support.app import app_client, http_server, make_settings
from tests.support.live import login
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


@contextmanager
def gguf_http_server(base: Path, **chat: Any) -> Iterator[tuple[str, str]]:
    """The app with the real GGUF engine on real HTTP (uvicorn in a thread), for real client
    libraries; yields (base URL, a platform API key ``lmw-…`` of a fresh user). ``chat``
    overrides the chat settings (default: 2 slots of 1024 tokens, deterministic mode, so
    greedy answers do not depend on what ran before)."""
    import httpx

    from lmwebui.api import create_app

    settings = make_settings(
        base,
        models_dir=models_dir_with_bundled(base / "models"),
        rate_limits={"enabled": False},
        chat={"n_slots": 2, "n_ctx_per_slot": 1024, "deterministic": True, **chat},
    )
    with http_server(create_app(settings, Runtime(chat_engines=gguf_engines))) as url:
        bearer = login(url, "client@example.com")
        r = httpx.post(f"{url}/api/api-keys", json={"name": "client"}, headers=bearer)
        r.raise_for_status()
        yield url, r.json()["key"]
