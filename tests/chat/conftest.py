"""Fixtures of the chat tests."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.api import login_as
from tests.support.app import ClientFactory, engines_runtime
from tests.support.chat import Build
from tests.support.engines import ScriptedEngine


@pytest.fixture
def build(client_factory: ClientFactory) -> Build:
    """An app whose only GGUF engine is ``engine``; a logged-in user's Bearer header."""

    def make(engine: ScriptedEngine, **overrides: Any) -> tuple[TestClient, dict[str, str]]:
        overrides.setdefault("rate_limits", {"enabled": False})
        client = client_factory(engines_runtime({"gguf": engine}), **overrides)
        return client, login_as(client, "turn@example.com")

    return make
