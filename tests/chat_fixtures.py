"""Module-scoped in-process app with the real GGUF engine (the model loads once per module)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from lmwebui.api import create_app
from lmwebui.api.services import Runtime
from lmwebui.chat.engines.base import ChatEngine
from lmwebui.inference.builder import build_gguf_engine
from lmwebui.settings import Settings
from tests.models import models_dir_with_bundled


def chat_app_client(
    base: Path, database_url: str | None = None, **overrides: Any
) -> Iterator[TestClient]:
    models_dir = models_dir_with_bundled(base / "models")
    overrides.setdefault("rate_limits", {"enabled": False})
    overrides.setdefault("chat", {"n_slots": 4, "n_ctx_per_slot": 1024})
    settings = Settings(
        data_dir=base / "data", models_dir=models_dir, database_url=database_url, **overrides
    )

    def engines(s: Settings) -> dict[str, ChatEngine]:
        engine, _pool = build_gguf_engine(s)
        return {"gguf": engine}

    app = create_app(settings, Runtime(chat_engines=engines))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def login_as(client: TestClient, email: str) -> dict[str, str]:
    """Register (if needed) and log in; returns a Bearer header (cookies are not used)."""
    body = {"email": email, "password": "password123"}
    client.post("/api/auth/register", json=body)
    r = client.post("/api/auth/login", json=body)
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
