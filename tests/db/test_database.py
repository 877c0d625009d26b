"""The database layer seen through the API: a locked SQLite file is a retryable 503."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.support.api import assert_error
from tests.support.app import ClientFactory


def test_locked_sqlite_is_a_503_and_nothing_is_half_written(
    client_factory: ClientFactory, tmp_path: Path
) -> None:
    client = client_factory(rate_limits={"enabled": False}, sqlite_busy_timeout_ms=200)
    body = {"email": "locked@example.com", "password": "password123"}
    # another process (here: another connection) holds the write lock past the timeout
    holder = sqlite3.connect(tmp_path / "data" / "app.db", timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        r = client.post("/api/auth/register", json=body)
        assert_error(r, 503, "SERVICE_UNAVAILABLE")
        assert r.headers["Retry-After"] == "1"
    finally:
        holder.rollback()
        holder.close()
    # the failed request left no user behind: registering again works
    assert client.post("/api/auth/register", json=body).status_code == 201
    assert client.post("/api/auth/login", json=body).status_code == 200


def test_unreachable_postgresql_is_a_503(client_factory: ClientFactory) -> None:
    """The database going away under a running app: a retryable 503, never a 500."""
    from tests.support.pg import pg_bin, start_postgres

    if pg_bin() is None:
        pytest.skip("PostgreSQL binaries not installed")
    pg = start_postgres()  # its own server: the session's is shared by other tests
    try:
        pg.psql("CREATE DATABASE goes_away")
        client = client_factory(database_url=pg.url("goes_away"), rate_limits={"enabled": False})
        body = {"email": "gone@example.com", "password": "password123"}
        assert client.post("/api/auth/register", json=body).status_code == 201
    finally:
        pg.stop()
    r = client.post("/api/auth/login", json=body)
    assert_error(r, 503, "SERVICE_UNAVAILABLE")
    assert r.headers["Retry-After"] == "1"
