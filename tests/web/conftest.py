"""The page against the real platform: one `lmwebui serve` (bundled model, the local test
hub, a scriptable OpenAI-compatible upstream on loopback) shared by the browser tests, and
Playwright's fixtures launching Debian's chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.gguf_fixtures import LIVE_ADMIN
from tests.support.hub_server import Hub
from tests.support.live import LiveServer, login, start_server
from tests.support.upstream import FakeUpstream, fake_upstream
from tests.support.web import CHROMIUM


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make sysdeps installs it)")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "headless": True}


@pytest.fixture(scope="session")
def upstream() -> Iterator[FakeUpstream]:
    """An OpenAI-compatible provider a user can point Settings at (scripted answers)."""
    with fake_upstream() as state:
        yield state


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory, live_hub: Hub) -> Iterator[LiveServer]:
    base: Path = tmp_path_factory.mktemp("web")
    server = start_server(
        base / "data",
        env={
            "LMWEBUI_RATE_LIMITS__AUTH": "200/minute",  # every test signs in from 127.0.0.1
            "HF_ENDPOINT": live_hub.url,
            "LMWEBUI_ADMIN_EMAILS": LIVE_ADMIN,
            # A user's provider may be the scripted upstream on loopback.
            "LMWEBUI_CHAT__ALLOWED_PROVIDER_HOSTS": "127.0.0.1",
        },
    )
    # The first account of a server is its admin: make it the admin's, so every other
    # account a test registers is a plain user whatever the order of the tests.
    login(server.url, LIVE_ADMIN)
    try:
        yield server
    finally:
        code = server.stop()
        assert code == 0, f"lmwebui serve exited {code}:\n{server.tail()}"


@pytest.fixture(scope="session")
def base_url(web_server: LiveServer) -> str:
    """pytest-playwright's base URL: the live platform."""
    return web_server.url
