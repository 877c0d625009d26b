"""The in-process app: settings on a temp data dir, create_app, a TestClient.

Every in-process client in the suite is built here (conftest's ``client_factory``, the
chat, RAG and GGUF fixtures, tests with their own runtime).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from lmwebui.api import create_app
from lmwebui.api.services import Runtime
from lmwebui.chat.engines.base import ChatEngine
from lmwebui.settings import Settings

ClientFactory = Callable[..., TestClient]


def make_settings(base: Path, **overrides: Any) -> Settings:
    """Settings whose data dir is ``base/data`` unless the overrides say otherwise."""
    overrides.setdefault("data_dir", base / "data")
    return Settings(**overrides)


@contextmanager
def app_client(settings: Settings, runtime: Runtime | None = None) -> Iterator[TestClient]:
    """The app with its lifespan running; server errors become 500 responses (as live)."""
    with TestClient(create_app(settings, runtime), raise_server_exceptions=False) as client:
        yield client


def engines_runtime(engines: dict[str, ChatEngine], **runtime_kwargs: Any) -> Runtime:
    """A runtime whose chat providers are these engine instances."""
    return Runtime(chat_engines=lambda _settings: dict(engines), **runtime_kwargs)


@contextmanager
def http_server(app: Any, ready_timeout: float = 120) -> Iterator[str]:
    """``app`` on real HTTP (uvicorn in a thread, a free loopback port), for clients that
    need a socket (SDKs, WebSocket clients); yields the base URL."""
    import threading
    import time

    import uvicorn

    from tests.support.live import free_port

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + ready_timeout
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)
