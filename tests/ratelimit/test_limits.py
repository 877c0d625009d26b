"""Rate limits through HTTP: counts, headers, 429 body, per-user keys."""

from __future__ import annotations

import time

from tests.support.api import assert_error
from tests.support.app import ClientFactory


def test_auth_limit_10_per_minute_with_headers(client_factory: ClientFactory) -> None:
    c = client_factory()
    body = {"email": "nobody@example.com", "password": "password123"}
    for i in range(10):
        r = c.post("/api/auth/login", json=body)
        assert r.status_code == 401
        assert r.headers["X-RateLimit-Limit"] == "10"
        assert r.headers["X-RateLimit-Remaining"] == str(9 - i)
        assert int(r.headers["X-RateLimit-Reset"]) >= int(time.time())
    r = c.post("/api/auth/login", json=body)
    err = assert_error(r, 429, "RATE_LIMITED")
    assert "10/minute" in err["detail"]
    assert r.headers["X-RateLimit-Remaining"] == "0"
    assert int(r.headers["Retry-After"]) >= 1
    # other endpoints of the group share the budget
    assert_error(c.post("/api/auth/register", json=body), 429, "RATE_LIMITED")
    # unlimited endpoints are unaffected
    assert c.get("/health").status_code == 200


def test_limits_configurable_and_switchable(client_factory: ClientFactory) -> None:
    c = client_factory(rate_limits={"auth": "2/minute"})
    body = {"email": "x@example.com", "password": "password123"}
    codes = [c.post("/api/auth/login", json=body).status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    off = client_factory(rate_limits={"enabled": False, "auth": "1/minute"})
    assert [off.post("/api/auth/login", json=body).status_code for _ in range(3)] == [401] * 3
