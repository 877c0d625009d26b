"""Shared fixtures: the in-process app, PostgreSQL, the chat and RAG apps (helpers live in
tests/support)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lmwebui.api.services import Runtime
from tests.support.app import ClientFactory, app_client, make_settings
from tests.support.chat_app import chat_app_client
from tests.support.pg import PgServer, pg_bin, start_postgres
from tests.support.rag import RagWorkers, load_workers, rag_app_client

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# GGUF management fixtures (local hub, app clients): available to every test module.
pytest_plugins = ["tests.support.gguf_fixtures"]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    if pg_bin() is None:
        if IN_CI:
            pytest.fail("PostgreSQL binaries are required under CI (CI=true)")
        pytest.skip("PostgreSQL binaries (initdb/pg_ctl) not installed: PostgreSQL run skipped")
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Persistence tests run against both backends."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    server: PgServer = request.getfixturevalue("pg_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    server.psql(f"CREATE DATABASE {name}")
    return server.url(name)


@pytest.fixture
def client_factory(tmp_path: Path) -> Iterator[ClientFactory]:
    """Build in-process clients; each is entered (lifespan run) and closed at teardown."""
    with ExitStack() as opened:

        def factory(runtime: Runtime | None = None, **overrides: Any) -> TestClient:
            return opened.enter_context(app_client(make_settings(tmp_path, **overrides), runtime))

        yield factory


@pytest.fixture
def client(client_factory: ClientFactory, database_url: str) -> TestClient:
    """The app on SQLite and on PostgreSQL, rate limits off (they have their own tests)."""
    return client_factory(database_url=database_url, rate_limits={"enabled": False})


@pytest.fixture(scope="module")
def chat_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The in-process app with the real GGUF engine; the model loads once per module."""
    yield from chat_app_client(tmp_path_factory.mktemp("chat"))


@pytest.fixture(scope="module")
def rag_workers() -> RagWorkers:
    """The real embedding model, docling and OCR, loaded once per module."""
    return load_workers()


@pytest.fixture(scope="module")
def rag_client(
    tmp_path_factory: pytest.TempPathFactory, rag_workers: RagWorkers
) -> Iterator[TestClient]:
    """The in-process app with RAG (its own Milvus Lite file), shared by a module."""
    yield from rag_app_client(tmp_path_factory.mktemp("rag"), rag_workers)
