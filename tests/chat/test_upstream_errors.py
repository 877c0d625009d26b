"""Upstream provider failures through /api/chat and /v1 against a local fake upstream: the
platform's own upstream codes (never its AUTH_REQUIRED), a fixed message, no upstream text."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.support.api import assert_error, login_as
from tests.support.app import ClientFactory
from tests.support.upstream import ANSWER, UPSTREAM_SECRET_TEXT, FakeUpstream, fake_upstream

CASES = [
    # upstream status, extra headers, platform status, platform code
    (401, {}, 502, "UPSTREAM_AUTH_FAILED"),
    (403, {}, 502, "UPSTREAM_AUTH_FAILED"),
    (429, {"Retry-After": "7"}, 429, "UPSTREAM_RATE_LIMITED"),
    (400, {}, 502, "UPSTREAM_ERROR"),
    (404, {}, 502, "UPSTREAM_ERROR"),
    (422, {}, 502, "UPSTREAM_ERROR"),
    (500, {}, 502, "UPSTREAM_ERROR"),
    (503, {}, 502, "UPSTREAM_ERROR"),
]


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with fake_upstream() as server:
        yield server


@pytest.fixture
def client(client_factory: ClientFactory, upstream: FakeUpstream) -> TestClient:
    # the server-wide URL is the admin's: trusted, so a loopback upstream is fine here
    return client_factory(
        rate_limits={"enabled": False},
        chat={"openai_base_url": upstream.url, "openai_api_key": "sk-server-wide-key"},
    )


def _chat(client: TestClient, h: dict[str, str]) -> httpx.Response:
    return client.post(
        "/api/chat", headers=h, json={"message": "hi", "provider": "openai", "model": "gpt-4o-mini"}
    )


def _v1(client: TestClient, h: dict[str, str], stream: bool) -> httpx.Response:
    return client.post(
        "/v1/chat/completions",
        headers=h,
        json={
            "model": "openai/gpt-4o-mini",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": stream,
        },
    )


def test_upstream_answers_through_every_entry_point(
    client: TestClient, upstream: FakeUpstream
) -> None:
    h = login_as(client, "ok@example.com")
    r = _chat(client, h)
    assert r.status_code == 200 and r.json()["response"] == ANSWER, r.text
    r = _v1(client, h, stream=False)
    assert r.status_code == 200, r.text
    assert upstream.received and upstream.received[0].headers["authorization"].endswith(
        "sk-server-wide-key"
    )


@pytest.mark.parametrize(("upstream_status", "headers", "status", "code"), CASES)
def test_upstream_failures_map_to_upstream_codes(
    client: TestClient,
    upstream: FakeUpstream,
    upstream_status: int,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    h = login_as(client, "errs@example.com")
    upstream.fail_with(upstream_status, headers)
    for response in (_chat(client, h), _v1(client, h, False), _v1(client, h, True)):
        body = assert_error(response, status, code)
        text = response.text
        assert UPSTREAM_SECRET_TEXT not in text and "sk-upstream" not in text, text
        assert "AUTH_REQUIRED" not in text
        if upstream_status == 429:
            assert response.headers["retry-after"] == "7"
        assert body["detail"].startswith("The upstream provider")
    # the user's own session is intact: an upstream 401 did not sign them out
    assert client.get("/api/auth/me", headers=h).status_code == 200


def test_unreadable_retry_after_is_not_passed_on(
    client: TestClient, upstream: FakeUpstream
) -> None:
    h = login_as(client, "ra@example.com")
    upstream.fail_with(429, {"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"})
    r = _chat(client, h)
    assert_error(r, 429, "UPSTREAM_RATE_LIMITED")
    assert "retry-after" not in r.headers
