"""DELETE /api/gguf/{name} unloads the model from the chat engine before removing the file."""

from __future__ import annotations

import os
from pathlib import Path

from lmwebui.api.services import Runtime
from lmwebui.chat.engines.base import ChatEngine
from lmwebui.inference.builder import build_gguf_engine
from lmwebui.inference.loaded import ModelPool
from lmwebui.models.files import BUNDLED_MODEL
from lmwebui.models.runtime import GGUFRuntime
from lmwebui.settings import Settings
from tests.support.api import assert_error, login_as
from tests.support.app import app_client, make_settings
from tests.support.models import models_dir_with_bundled


def test_delete_unloads_a_loaded_model_first(tmp_path: Path) -> None:
    models = models_dir_with_bundled(tmp_path / "models")
    os.link(models / BUNDLED_MODEL, models / "copy.gguf")
    settings = make_settings(
        tmp_path,
        models_dir=models,
        rate_limits={"enabled": False},
        chat={"n_slots": 2, "n_ctx_per_slot": 512},
    )
    pools: list[ModelPool] = []

    def engines(s: Settings) -> dict[str, ChatEngine]:
        engine, pool = build_gguf_engine(s)
        pools.append(pool)
        return {"gguf": engine}

    async def unload(name: str) -> int:
        return sum(pool.unload(name) for pool in pools)

    runtime = Runtime(chat_engines=engines, gguf=GGUFRuntime(unloader=unload))
    with app_client(settings, runtime) as client:
        h = login_as(client, "admin@example.com")  # first account: admin
        chat = {"message": "Hi", "model": "copy.gguf", "max_tokens": 2, "temperature": 0}
        assert client.post("/api/chat", json=chat, headers=h).status_code == 200
        assert "copy.gguf" in pools[0].loaded()
        r = client.delete("/api/gguf/copy.gguf", headers=h)
        assert r.status_code == 200, r.text
        assert r.json()["unloaded_replicas"] == 1
        assert "copy.gguf" not in pools[0].loaded() and not (models / "copy.gguf").exists()
        assert_error(client.post("/api/chat", json=chat, headers=h), 404, "MODEL_NOT_FOUND")
        assert (models / BUNDLED_MODEL).exists()  # the hard-linked original is intact
