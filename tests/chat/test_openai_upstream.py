"""The `openai` provider against upstreams that are down or too slow: a clear error, no hang."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.api import assert_error, login_as
from tests.support.app import ClientFactory


@pytest.fixture
def stalling_upstream() -> Iterator[str]:
    """Accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/v1"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_slow_upstream_times_out_with_504(
    client_factory: ClientFactory, tmp_path: Path, stalling_upstream: str
) -> None:
    client: TestClient = client_factory(
        rate_limits={"enabled": False},
        chat={
            "openai_base_url": stalling_upstream,
            "openai_api_key": "sk-server-wide-key",
            "openai_timeout_s": 1.5,
        },
    )
    h = login_as(client, "slow@example.com")
    r = client.post(
        "/api/chat", headers=h, json={"message": "hi", "provider": "openai", "model": "gpt-4o-mini"}
    )
    assert_error(r, 504, "UPSTREAM_TIMEOUT")
    # nothing persisted for the failed turn
    assert client.get("/api/conversations", headers=h).json()["conversations"] == []


def test_unreachable_upstream_is_502(client_factory: ClientFactory) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    client: TestClient = client_factory(
        rate_limits={"enabled": False},
        chat={
            "openai_base_url": f"http://127.0.0.1:{port}/v1",
            "openai_api_key": "sk-server-wide-key",
        },
    )
    h = login_as(client, "down@example.com")
    r = client.post(
        "/api/chat", headers=h, json={"message": "hi", "provider": "openai", "model": "gpt-4o-mini"}
    )
    assert_error(r, 502, "UPSTREAM_ERROR")
