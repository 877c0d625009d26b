"""A user's own provider base URL goes through the outbound policy (lmwebui.netpolicy): refused
when given (PUT, 400) and again at connect time (a forced row, DNS rebinding), unless an admin
allows the host or network; a loopback listener never hears from the platform."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from lmwebui.db.models import ProviderKey
from tests.support.api import assert_error, login_as
from tests.support.app import ClientFactory
from tests.support.upstream import ANSWER, FakeUpstream, fake_upstream

USER_KEY = "sk-user-own-key-123456"
PUBLIC_IP = "93.184.215.14"


@pytest.fixture
def target() -> Iterator[FakeUpstream]:
    """The listener a user points the platform at."""
    with fake_upstream() as server:
        yield server


@pytest.fixture
def server_wide() -> Iterator[FakeUpstream]:
    """The admin's upstream (server-wide settings: trusted, may be on loopback)."""
    with fake_upstream() as server:
        yield server


def _client(factory: ClientFactory, server_wide: FakeUpstream, **chat: Any) -> TestClient:
    return factory(
        rate_limits={"enabled": False},
        chat={"openai_base_url": server_wide.url, "openai_api_key": "sk-server-key", **chat},
    )


def _put(client: TestClient, h: dict[str, str], base_url: str) -> httpx.Response:
    return client.put(
        "/api/providers/openai/key", headers=h, json={"api_key": USER_KEY, "base_url": base_url}
    )


def _chat(client: TestClient, h: dict[str, str]) -> httpx.Response:
    return client.post(
        "/api/chat", headers=h, json={"message": "hi", "provider": "openai", "model": "gpt-4o-mini"}
    )


def _v1(client: TestClient, h: dict[str, str]) -> httpx.Response:
    return client.post(
        "/v1/chat/completions",
        headers=h,
        json={"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
    )


REFUSED = [
    ("http://127.0.0.1:{port}/v1", "loopback"),
    ("http://localhost:{port}/v1", "loopback"),
    ("http://[::1]:{port}/v1", "loopback"),
    ("http://[::ffff:127.0.0.1]:{port}/v1", "loopback"),
    ("http://[::ffff:7f00:1]:{port}/v1", "loopback"),
    ("http://[::127.0.0.1]:{port}/v1", "loopback"),
    ("http://[64:ff9b::7f00:1]:{port}/v1", "loopback"),
    ("http://[2002:7f00:1::]:{port}/v1", "loopback"),
    ("http://0.0.0.0:{port}/v1", "unspecified"),
    ("http://[::]:{port}/v1", "unspecified"),
    ("http://2130706433:{port}/v1", "non-standard spelling"),
    ("http://0177.0.0.1:{port}/v1", "non-standard spelling"),
    ("http://0x7f.1:{port}/v1", "non-standard spelling"),
    ("http://127.1:{port}/v1", "non-standard spelling"),
    ("http://10.0.0.5/v1", "private"),
    ("http://172.16.3.4/v1", "private"),
    ("http://192.168.1.10/v1", "private"),
    ("http://[fd12::1]/v1", "private"),
    ("http://169.254.169.254/latest/meta-data", "metadata"),
    ("http://[fd00:ec2::254]/v1", "metadata"),
    ("http://100.100.100.200/v1", "metadata"),
    ("http://169.254.10.10/v1", "link-local"),
    ("http://[fe80::1]/v1", "link-local"),
    ("http://224.0.0.251/v1", "multicast"),
    ("http://[ff02::1]/v1", "multicast"),
    ("http://100.64.0.1/v1", "non-public"),
    ("http://user:pw@api.example.com/v1", "credentials"),
    # malformed hosts are a 400 too, never a 500 from the resolver
    ("http://[::1/v1", "malformed"),
    ("http://[zz::1]/v1", "malformed"),
    ("http://a..b.example/v1", "not a valid DNS name"),
    ("http://\u00e9t\u00e9.example/v1", "not a valid DNS name"),
    ("http://a\u0000b.example/v1", "not a valid DNS name"),
    ("http://" + "a" * 64 + ".example/v1", "not a valid DNS name"),
]


@pytest.mark.parametrize(("url", "why"), REFUSED)
def test_refused_base_urls_are_400_and_nothing_is_sent(
    client_factory: ClientFactory,
    server_wide: FakeUpstream,
    target: FakeUpstream,
    url: str,
    why: str,
) -> None:
    client = _client(client_factory, server_wide)
    h = login_as(client, "ssrf@example.com")
    cross_origin = {**h, "Origin": "http://evil.example"}
    body = assert_error(
        _put(client, cross_origin, url.format(port=target.port)), 400, "VALIDATION_ERROR"
    )
    assert why in body["detail"] and body["fields"][0]["field"] == "base_url", body
    assert client.get("/api/providers/keys", headers=h).json()["keys"] == []
    # the user's chat still goes to the admin's upstream, never to the refused URL
    assert _chat(client, h).status_code == 200
    assert target.received == [] and len(server_wide.received) == 1


def test_refused_before_any_connect_when_a_name_resolves_private(
    client_factory: ClientFactory,
    server_wide: FakeUpstream,
    target: FakeUpstream,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolve_to(
        monkeypatch,
        {"intranet.example": [["10.1.2.3"]], "dual.example": [[PUBLIC_IP, "127.0.0.1"]]},
    )
    client = _client(client_factory, server_wide)
    h = login_as(client, "names@example.com")
    for host in ("intranet.example", "dual.example"):  # one bad address is enough
        r = _put(client, h, f"http://{host}:{target.port}/v1")
        assert "resolves to" in assert_error(r, 400, "VALIDATION_ERROR")["detail"]
    assert_error(_put(client, h, "ftp://files.example/v1"), 400, "VALIDATION_ERROR")
    r = _put(client, h, "http://nowhere.invalid/v1")
    assert "cannot be resolved" in assert_error(r, 400, "VALIDATION_ERROR")["detail"]


def resolve_to(monkeypatch: pytest.MonkeyPatch, names: dict[str, list[list[str]]]) -> list[str]:
    """The system resolver answers ``names`` from the table: each call uses up the next
    answer (a list of addresses), the last one stays; returns the names asked."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in names:
            return real(host, port, *args, **kwargs)
        asked.append(name)
        answers = names[name]
        addresses = answers.pop(0) if len(answers) > 1 else answers[0]
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, int(port), 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, int(port)))
            for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return asked


def test_dns_rebinding_is_refused_at_connect_time(
    client_factory: ClientFactory,
    server_wide: FakeUpstream,
    target: FakeUpstream,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # public when the URL is given, loopback (the listener) when the platform connects
    asked = resolve_to(monkeypatch, {"rebind.example": [[PUBLIC_IP], ["127.0.0.1"]]})
    client = _client(client_factory, server_wide)
    h = login_as(client, "rebind@example.com")
    assert _put(client, h, f"http://rebind.example:{target.port}/v1").status_code == 200
    for r in (_chat(client, h), _v1(client, h)):
        body = assert_error(r, 502, "UPSTREAM_ERROR")
        assert "outbound policy" in body["detail"] and "loopback" in body["detail"], body
    assert len(asked) >= 2 and target.received == []
    # another user is unaffected: the admin's upstream answers them
    other = login_as(client, "bystander@example.com")
    assert _chat(client, other).json()["response"] == ANSWER
    assert target.received == [] and len(server_wide.received) == 1


def test_a_forced_row_is_refused_at_connect_time(
    client_factory: ClientFactory, server_wide: FakeUpstream, target: FakeUpstream
) -> None:
    """A row written before the policy existed (or behind the API's back) is checked too."""
    client = _client(client_factory, server_wide)
    h = login_as(client, "forced@example.com")
    user_id = client.get("/api/auth/me", headers=h).json()["id"]
    services = client.app.state.services  # type: ignore[attr-defined]
    token = services.provider_keys.fernet.encrypt(USER_KEY.encode()).decode()

    async def force() -> None:
        async with services.db.session() as s, s.begin():
            s.add(
                ProviderKey(
                    user_id=user_id,
                    provider="openai",
                    encrypted_key=token,
                    key_hint="sk-…3456",
                    base_url=target.url,
                    created_at=datetime.now(UTC),
                )
            )

    assert client.portal is not None
    client.portal.call(force)
    for r in (_chat(client, h), _v1(client, h)):
        assert "outbound policy" in assert_error(r, 502, "UPSTREAM_ERROR")["detail"]
    assert target.received == [] and server_wide.received == []


@pytest.mark.parametrize(
    "allow",
    [{"allowed_provider_hosts": ["127.0.0.1"]}, {"allowed_provider_networks": ["127.0.0.0/8"]}],
)
def test_an_allow_listed_host_or_network_is_accepted(
    client_factory: ClientFactory,
    server_wide: FakeUpstream,
    target: FakeUpstream,
    allow: dict[str, list[str]],
) -> None:
    client = _client(client_factory, server_wide, **allow)
    h = login_as(client, "allowed@example.com")
    assert _put(client, h, target.url).status_code == 200
    assert _chat(client, h).json()["response"] == ANSWER
    assert target.received[0].headers["authorization"] == f"Bearer {USER_KEY}"
    # other users keep the admin's upstream and key
    other = login_as(client, "other@example.com")
    assert _chat(client, other).json()["response"] == ANSWER
    assert len(target.received) == 1 and len(server_wide.received) == 1
    assert server_wide.received[0].headers["authorization"] == "Bearer sk-server-key"
    # what the allow-list does not name stays refused; metadata whatever the list says
    assert_error(_put(client, h, "http://10.0.0.5/v1"), 400, "VALIDATION_ERROR")


def test_metadata_stays_refused_inside_an_allowed_network(
    client_factory: ClientFactory, server_wide: FakeUpstream
) -> None:
    client = _client(client_factory, server_wide, allowed_provider_networks=["169.254.0.0/16"])
    h = login_as(client, "meta@example.com")
    assert _put(client, h, "http://169.254.10.10/v1").status_code == 200
    body = assert_error(_put(client, h, "http://169.254.169.254/v1"), 400, "VALIDATION_ERROR")
    assert "metadata" in body["detail"]


def test_redirects_are_not_followed(
    client_factory: ClientFactory, server_wide: FakeUpstream, target: FakeUpstream
) -> None:
    with fake_upstream() as beyond:
        target.redirect_to = f"{beyond.url}/chat/completions"
        client = _client(client_factory, server_wide, allowed_provider_hosts=["127.0.0.1"])
        h = login_as(client, "redirect@example.com")
        assert _put(client, h, target.url).status_code == 200
        assert_error(_chat(client, h), 502, "UPSTREAM_ERROR")
        assert len(target.received) == 1 and beyond.received == []
