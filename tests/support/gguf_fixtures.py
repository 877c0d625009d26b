"""Fixtures for GGUF management tests: a local hub with real GGUF files, app clients.

A pytest plugin (tests/conftest.py ``pytest_plugins``): the fixtures are available to every
test module; import the constants and helpers (``from tests.support.gguf_fixtures import REPO``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gguf
import pytest
from fastapi.testclient import TestClient

from lmwebui.api.services import Runtime
from tests.support.api import login_as
from tests.support.app import ClientFactory
from tests.support.gguf_files import write_gguf
from tests.support.hub_server import Hub

REPO = "acme/tiny-GGUF"
MIB = 1024 * 1024
FILES = {  # repo path -> (data bytes, llama file type)
    "tiny.Q4_K_M.gguf": (4 * MIB, gguf.LlamaFileType.MOSTLY_Q4_K_M),
    "tiny.Q8_0.gguf": (6 * MIB, gguf.LlamaFileType.MOSTLY_Q8_0),
    "sub/tiny.Q2_K.gguf": (2 * MIB, gguf.LlamaFileType.MOSTLY_Q2_K),
    "mmproj-tiny-f16.gguf": (1 * MIB, gguf.LlamaFileType.MOSTLY_F16),
}
ADMIN = "admin@example.com"


@pytest.fixture(scope="session")
def hub_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """GGUF files written once per session (the hub links them into its repos)."""
    base = tmp_path_factory.mktemp("hub-files")
    for i, (rel, (size, ftype)) in enumerate(FILES.items()):
        write_gguf(base / rel, data_bytes=size, file_type=ftype, seed=i)
    (base / "fake.Q4_K_M.gguf").write_bytes(b"this is not a gguf file\n" * 1000)
    return base


@pytest.fixture
def hub(tmp_path: Path, hub_files: Path) -> Iterator[Hub]:
    """A fresh local hub per test: acme/tiny-GGUF, acme/no-gguf, acme/fake-GGUF."""
    server = Hub(tmp_path / "hub")
    for rel in FILES:
        server.add_file(REPO, rel, hub_files / rel)
    server.add_file(REPO, "README.md", b"# tiny\n")
    server.add_file("acme/no-gguf", "README.md", b"# nothing here\n")
    server.add_file("acme/no-gguf", "model.safetensors", b"\0" * 1024)
    server.add_file("acme/fake-GGUF", "fake.Q4_K_M.gguf", hub_files / "fake.Q4_K_M.gguf")
    try:
        yield server
    finally:
        server.stop()


GGUFClientFactory = Callable[..., TestClient]


@pytest.fixture
def gguf_client_factory(
    client_factory: ClientFactory, tmp_path: Path, hub: Hub
) -> GGUFClientFactory:
    """In-process apps on the local hub (rate limits off unless asked; small timeouts)."""

    def factory(runtime: Runtime | None = None, **overrides: Any) -> TestClient:
        overrides.setdefault("models_dir", tmp_path / "models")
        overrides.setdefault("admin_emails", [ADMIN])
        overrides.setdefault("rate_limits", {"enabled": False, "concurrent_downloads": 2})
        gguf_cfg = {
            "hub_endpoint": hub.url,
            "hub_timeout_s": 5,
            "read_timeout_s": 2,
            "connect_timeout_s": 2,
            "max_retries": 3,
            "reserve_free_bytes": 0,
            "progress_interval_s": 0.05,
        }
        gguf_cfg.update(overrides.pop("gguf", {}))
        return client_factory(runtime, gguf=gguf_cfg, **overrides)

    return factory


@pytest.fixture
def gguf_client(gguf_client_factory: GGUFClientFactory) -> TestClient:
    return gguf_client_factory()


def admin_headers(client: TestClient) -> dict[str, str]:
    return login_as(client, ADMIN)


def user_headers(client: TestClient, email: str = "user@example.com") -> dict[str, str]:
    return login_as(client, email)


def hub_url(hub: Hub, rel: str, repo: str = REPO, rev: str = "main") -> str:
    return f"{hub.url}/{repo}/resolve/{rev}/{rel}"


LIVE_REPO = "acme/gemma-GGUF"
LIVE_FILE = "gemma-copy.Q4_K_M.gguf"
LIVE_ADMIN = "gguf-admin@example.com"


@pytest.fixture(scope="session")
def live_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """The hub the live `lmwebui serve` talks to (HF_ENDPOINT): a real, chat-able model."""
    from tests.support.models import bundled_model_path

    server = Hub(tmp_path_factory.mktemp("live-hub"))
    server.add_file(LIVE_REPO, LIVE_FILE, bundled_model_path())
    try:
        yield server
    finally:
        server.stop()
