"""One real Serve deployment (2 ingress replicas, local Ray) shared by the module tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import LiveServer, start_server


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    base: Path = tmp_path_factory.mktemp("live")
    server = start_server(base / "data", env={"LMWEBUI_INGRESS_REPLICAS": "2"})
    try:
        yield server
    finally:
        code = server.stop()
        assert code == 0, server.tail()
