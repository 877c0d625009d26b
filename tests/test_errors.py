"""Every 4xx/5xx has the reference's error body."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.support.api import assert_error
from tests.support.app import ClientFactory


def test_unknown_route_and_wrong_method(client_factory: ClientFactory) -> None:
    c = client_factory()
    assert_error(c.get("/api/does-not-exist"), 404, "NOT_FOUND")
    assert_error(c.delete("/health"), 405, "METHOD_NOT_ALLOWED")


def test_unexpected_exception_is_500_with_request_id(
    client_factory: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    c: TestClient = client_factory()

    @c.app.get("/boom")  # type: ignore[attr-defined]
    async def boom() -> None:
        raise RuntimeError("secret internals")

    with caplog.at_level(logging.ERROR, logger="lmwebui.errors"):
        r = c.get("/boom")
    body = assert_error(r, 500, "INTERNAL_ERROR")
    assert "secret internals" not in r.text and "Traceback" not in r.text
    assert body["request_id"] == r.headers["x-request-id"]
    assert body["request_id"] in caplog.text
