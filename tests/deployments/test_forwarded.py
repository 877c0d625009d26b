"""Through a running `lmwebui serve` (Ray's HAProxy ingress in front of the app): the client
address behind forwarded headers, and one request id per request.

Two servers: one with the defaults (no trusted proxy: X-Forwarded-For is ignored, whoever
sends it) and one that trusts 127.0.0.1, the address the test client connects from
(HAProxy passes on whom it accepted, api/peer.py), standing in for an operator's TLS proxy.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.api import assert_error
from tests.support.live import LiveServer, client_from, login, source_address, start_server

BAD_LOGIN = {"email": "nobody@example.com", "password": "password123"}


def _serve(base: Path, env: dict[str, str]) -> Iterator[LiveServer]:
    server = start_server(base / "data", env={"LMWEBUI_RAG__ENABLED": "false", **env})
    try:
        yield server
    finally:
        server.stop()  # how it exits is tests/deployments/test_serve_stop.py's concern


@pytest.fixture(scope="class")
def default_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _serve(tmp_path_factory.mktemp("untrusted"), {})


@pytest.fixture(scope="class")
def bearer(default_server: LiveServer) -> dict[str, str]:
    """Logged in from an address of its own (tests/support/live.py: source_address)."""
    return login(default_server.url, "forwarded@example.com")


@pytest.fixture(scope="class")
def trusting_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {
        "LMWEBUI_SECURITY__TRUSTED_PROXIES": "127.0.0.1",
        "LMWEBUI_RATE_LIMITS__AUTH": "3/minute",
    }
    yield from _serve(tmp_path_factory.mktemp("trusted"), env)


def _logins(url: str, forwarded: list[str]) -> list[httpx.Response]:
    with httpx.Client(base_url=url, timeout=60) as http:
        return [
            http.post("/api/auth/login", json=BAD_LOGIN, headers={"X-Forwarded-For": xff})
            for xff in forwarded
        ]


def _replica_logs(server: LiveServer) -> str:
    """The Ingress replicas' Serve logs of the Ray session this server started (Ray names
    the session directory after the driver's pid)."""
    sessions = Path(tempfile.gettempdir(), "ray").glob(f"session_*_{server.proc.pid}")
    return "".join(
        log.read_text(errors="replace")
        for session in sessions
        for log in session.glob("logs/serve/replica_*Ingress*.log")
    )


class TestBehindTrustedProxy:
    """security.trusted_proxies = 127.0.0.1 (first: a server of its own, started fresh)."""

    def test_trusted_proxy_header_keys_the_limit(self, trusting_server: LiveServer) -> None:
        responses = _logins(trusting_server.url, ["198.51.100.1"] * 4)
        codes = [r.status_code for r in responses]
        assert codes == [401, 401, 401, 429], [dict(r.headers) for r in responses]
        # another client behind the proxy: its own bucket
        assert [r.status_code for r in _logins(trusting_server.url, ["198.51.100.2"])] == [401]

    def test_client_header_through_trusted_proxy_is_not_believed(
        self, trusting_server: LiveServer
    ) -> None:
        # the client's own X-Forwarded-For sits left of the hop the proxy appended: right-most
        # untrusted wins, so changing the left part does not give a new bucket
        forwarded = [f"203.0.113.{i}, 198.51.100.3" for i in range(4)]
        codes = [r.status_code for r in _logins(trusting_server.url, forwarded)]
        assert codes == [401, 401, 401, 429]


class TestWithoutTrustedProxy:
    """The defaults; one server, stopped before the next starts."""

    def test_untrusted_forwarded_for_does_not_escape_the_auth_limit(
        self, default_server: LiveServer, bearer: dict[str, str]
    ) -> None:
        # 10/minute from 127.0.0.1: the 11th attempt must hit 429 whatever the header says
        responses = _logins(default_server.url, [f"198.51.100.{i}" for i in range(11)])
        codes = [r.status_code for r in responses]
        assert set(codes) <= {401, 429} and codes[-1] == 429, codes
        limited = assert_error(responses[-1], 429, "RATE_LIMITED")
        assert "10/minute" in limited["detail"]

    def test_one_request_id_per_response(
        self, default_server: LiveServer, bearer: dict[str, str]
    ) -> None:
        with httpx.Client(base_url=default_server.url, timeout=60) as http:
            for response in (
                http.get("/api/health"),
                http.get("/api/auth/me"),  # an error through the app's error handlers
                http.get("/api/health", headers={"X-Request-ID": "client-chosen-1"}),
            ):
                assert len(response.headers.get_list("x-request-id")) == 1, response.headers
            assert response.headers["x-request-id"] == "client-chosen-1"

    def test_500_body_carries_the_response_request_id(
        self, default_server: LiveServer, bearer: dict[str, str]
    ) -> None:
        user = "forwarded@example.com"
        with client_from(default_server.url, user, timeout=60, headers=bearer) as http:
            assert http.post("/api/api-keys", json={"name": "k"}).status_code == 201
            # test-only damage: a stored date SQLAlchemy cannot read makes the listing fail
            with sqlite3.connect(default_server.data_dir / "app.db") as db:
                db.execute("UPDATE api_keys SET created_at = 'not a date'")
            r = http.get("/api/api-keys")
        body = assert_error(r, 500, "INTERNAL_ERROR")
        ids = r.headers.get_list("x-request-id")
        assert ids == [body["request_id"]], (ids, body)
        # the client as HAProxy saw it (not HAProxy itself, the replica's peer)
        client = source_address(default_server.url, user)
        line = f"request_id={body['request_id']} path=/api/api-keys client={client}"
        deadline = time.monotonic() + 30  # the replica's log line names it too
        while line not in _replica_logs(default_server) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert line in _replica_logs(default_server)
