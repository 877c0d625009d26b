"""Talking to the API the way every test does: log in, check an error body.

``bearer_login`` works on anything with an httpx-style ``post(url, json=...)``: the
in-process TestClient (``login_as``) and a live server (``tests.support.live.login``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

PASSWORD = "password123"
Post = Callable[..., Any]  # TestClient.post, httpx.Client.post


def credentials(email: str, password: str = PASSWORD) -> dict[str, str]:
    return {"email": email, "password": password}


def bearer_login(post: Post, email: str, password: str = PASSWORD) -> dict[str, str]:
    """Register (if needed) and log in; returns a Bearer header for later requests."""
    body = credentials(email, password)
    post("/api/auth/register", json=body)
    r = post("/api/auth/login", json=body)
    if r.status_code != 200:
        raise AssertionError(f"login of {email} failed: {r.status_code} {r.text}")
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def login_as(client: TestClient, email: str) -> dict[str, str]:
    """In-process login: a Bearer header; the client keeps no cookies (so several users
    can share one client)."""
    headers = bearer_login(client.post, email)
    client.cookies.clear()
    return headers


def register_and_login(
    client: TestClient, email: str = "user@example.com", password: str = PASSWORD
) -> dict[str, Any]:
    """A new account (registration must succeed), logged in with its cookies kept; returns
    the login body (user, tokens)."""
    r = client.post("/api/auth/register", json=credentials(email, password))
    assert r.status_code == 201, r.text
    r = client.post("/api/auth/login", json=credentials(email, password))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The one error body: {detail, error_code, timestamp}."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error_code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["timestamp"].endswith("Z")
    return body
