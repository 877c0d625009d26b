"""The client address rate limits and logs key on: the peer (as the platform's HAProxy saw
it, when the request carries the proxy key), unless the peer is a trusted proxy
(settings.security.trusted_proxies); then the right-most untrusted forwarded hop."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.datastructures import Headers

from lmwebui.api import create_app
from lmwebui.api.peer import PEER_HEADER, PROXY_KEY_HEADER, IPNetwork, client_address, proxied_peer
from lmwebui.secrets_store import load_secrets, proxy_key
from tests.support.api import assert_error
from tests.support.app import make_settings

LOCAL: list[IPNetwork] = [ipaddress.ip_network("127.0.0.1"), ipaddress.ip_network("10.0.0.0/8")]
BAD_LOGIN = {"email": "nobody@example.com", "password": "password123"}


def _address(peer: str | None, trusted: list[IPNetwork], **headers: str) -> str:
    raw = [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]
    return client_address(peer, Headers(raw=raw), trusted, "x-forwarded-for")


def test_header_ignored_unless_the_peer_is_trusted() -> None:
    assert _address("203.0.113.9", [], x_forwarded_for="1.2.3.4") == "203.0.113.9"
    assert _address("203.0.113.9", LOCAL, x_forwarded_for="1.2.3.4") == "203.0.113.9"
    assert _address("127.0.0.1", [], x_forwarded_for="1.2.3.4") == "127.0.0.1"
    assert _address("127.0.0.1", LOCAL, x_forwarded_for="1.2.3.4") == "1.2.3.4"
    assert _address("::ffff:127.0.0.1", LOCAL, x_forwarded_for="1.2.3.4") == "1.2.3.4"
    assert _address(None, LOCAL) == "unknown"
    assert _address("testclient", LOCAL, x_forwarded_for="1.2.3.4") == "testclient"


def test_right_most_untrusted_hop() -> None:
    # the client's own header sits left of what the trusted proxies appended
    xff = "6.6.6.6, 198.51.100.7, 10.1.2.3"
    assert _address("127.0.0.1", LOCAL, x_forwarded_for=xff) == "198.51.100.7"
    assert _address("127.0.0.1", LOCAL, x_forwarded_for="10.0.0.1, 10.0.0.2") == "10.0.0.1"
    # several header lines are one list, in order
    raw = Headers(raw=[(b"x-forwarded-for", b"6.6.6.6"), (b"x-forwarded-for", b"198.51.100.7")])
    assert client_address("127.0.0.1", raw, LOCAL) == "198.51.100.7"
    # ports and brackets are not part of the address
    assert _address("127.0.0.1", LOCAL, x_forwarded_for="198.51.100.7:4711") == "198.51.100.7"
    assert _address("127.0.0.1", LOCAL, x_forwarded_for="[2001:db8::1]:80") == "2001:db8::1"


def test_garbage_hops_are_never_the_client() -> None:
    for bad in ("unknown", "evil", "", "1.2.3.4.5", "_hidden", "<script>"):
        assert _address("127.0.0.1", LOCAL, x_forwarded_for=bad) == "127.0.0.1", bad
    # garbage behind a trusted hop: the last address known to be real
    assert _address("127.0.0.1", LOCAL, x_forwarded_for="evil, 10.9.9.9") == "10.9.9.9"


def test_forwarded_header_only_when_configured() -> None:
    fwd = 'for=6.6.6.6, for="[2001:db8::7]:4711";proto=https'
    raw = Headers(raw=[(b"forwarded", fwd.encode()), (b"x-forwarded-for", b"9.9.9.9")])
    assert client_address("127.0.0.1", raw, LOCAL, "forwarded") == "2001:db8::7"
    assert client_address("127.0.0.1", raw, LOCAL, "x-forwarded-for") == "9.9.9.9"
    only_forwarded = Headers(raw=[(b"forwarded", fwd.encode())])
    assert client_address("127.0.0.1", only_forwarded, LOCAL) == "127.0.0.1"


@pytest.fixture
def local_client(tmp_path: Path) -> Iterator[Any]:
    """Clients whose peer is 127.0.0.1 (TestClient's default peer is not an address)."""

    def make(**overrides: Any) -> TestClient:
        app = create_app(make_settings(tmp_path / str(len(opened)), **overrides))
        client = TestClient(app, raise_server_exceptions=False, client=("127.0.0.1", 40000))
        opened.append(client.__enter__())
        return client

    opened: list[TestClient] = []
    yield make
    for client in opened:
        client.__exit__(None, None, None)


def test_untrusted_forwarded_for_does_not_escape_the_auth_limit(local_client: Any) -> None:
    c = local_client()
    codes = [
        c.post("/api/auth/login", json=BAD_LOGIN, headers={"X-Forwarded-For": f"1.2.3.{i}"})
        for i in range(11)
    ]
    assert [r.status_code for r in codes[:10]] == [401] * 10
    assert_error(codes[10], 429, "RATE_LIMITED")


def test_trusted_proxy_header_keys_the_limit(local_client: Any) -> None:
    c = local_client(security={"trusted_proxies": "127.0.0.1"}, rate_limits={"auth": "2/minute"})

    def login(xff: str) -> int:
        return c.post(
            "/api/auth/login", json=BAD_LOGIN, headers={"X-Forwarded-For": xff}
        ).status_code

    assert [login("198.51.100.1") for _ in range(3)] == [401, 401, 429]
    assert login("198.51.100.2") == 401  # another client: its own bucket
    # a client's own header in front of the proxy's hop changes nothing
    assert [login(f"6.6.6.{i}, 198.51.100.3") for i in range(3)] == [401, 401, 429]


KEY = "ab" * 32


def _proxied(peer: str | None, key: str | None, **headers: str) -> str | None:
    raw = [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]
    return proxied_peer(peer, Headers(raw=raw), key)


def test_proxied_peer_needs_the_key() -> None:
    seen = {PEER_HEADER.replace("-", "_"): "198.51.100.7"}
    right, wrong = {PROXY_KEY_HEADER.replace("-", "_"): KEY}, {"x_lmwebui_proxy_key": "cd" * 32}
    assert _proxied("10.0.0.5", KEY, **seen, **right) == "198.51.100.7"
    assert _proxied("10.0.0.5", KEY, **seen, **wrong) == "10.0.0.5"
    assert _proxied("10.0.0.5", KEY, **seen) == "10.0.0.5"  # a client's own header
    assert _proxied("10.0.0.5", None, **seen, **right) == "10.0.0.5"  # no key: nothing believed
    assert _proxied("10.0.0.5", KEY, **right) == "10.0.0.5"  # no address sent
    assert _proxied("10.0.0.5", KEY, x_lmwebui_peer="evil", **right) == "10.0.0.5"
    assert _proxied("10.0.0.5", KEY, x_lmwebui_peer="::ffff:1.2.3.4", **right) == "1.2.3.4"
    assert _proxied(None, KEY, **seen, **right) == "198.51.100.7"


def test_proxy_key_headers_key_the_limit_only_with_the_key(tmp_path: Path) -> None:
    """Through the app: the address the proxy saw keys the auth limit with the data dir's
    proxy key; forged (wrong key) it changes nothing, so it cannot dodge the limit."""
    settings = make_settings(tmp_path, rate_limits={"auth": "2/minute"})
    key = proxy_key(load_secrets(settings))
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False, client=("127.0.0.1", 40000)) as c:

        def login(address: str, sent_key: str) -> int:
            headers = {PEER_HEADER: address, PROXY_KEY_HEADER: sent_key}
            return c.post("/api/auth/login", json=BAD_LOGIN, headers=headers).status_code

        assert [login(f"203.0.113.{i}", "0" * 64) for i in range(3)] == [401, 401, 429]
        assert [login("198.51.100.1", key) for _ in range(3)] == [401, 401, 429]
        assert login("198.51.100.2", key) == 401  # another client behind the proxy
