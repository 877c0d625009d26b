"""One real Serve deployment (2 ingress replicas, local Ray) shared by the module tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gguf_fixtures import LIVE_ADMIN
from tests.hub_server import Hub
from tests.live import LiveServer, start_server

AUTH_LIMIT = "30/minute"  # every test in the session logs in from 127.0.0.1


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, live_hub: Hub) -> Iterator[LiveServer]:
    base: Path = tmp_path_factory.mktemp("live")
    server = start_server(
        base / "data",
        env={
            "LMWEBUI_INGRESS_REPLICAS": "2",
            "LMWEBUI_RATE_LIMITS__AUTH": AUTH_LIMIT,
            "HF_ENDPOINT": live_hub.url,  # the local hub (tests/hub_server.py)
            "LMWEBUI_ADMIN_EMAILS": LIVE_ADMIN,
        },
    )
    try:
        yield server
    finally:
        code = server.stop()
        assert code == 0, f"lmwebui serve exited {code}:\n{server.tail()}"
