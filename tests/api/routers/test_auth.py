"""Auth endpoints through HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jwt
from fastapi.testclient import TestClient

from tests.support.api import assert_error, register_and_login


def _secret(tmp_path: Path) -> str:
    return (tmp_path / "data" / "secrets" / "jwt_secret").read_text().strip()


def _count_users(client: TestClient) -> int:
    from sqlalchemy import func, select

    from lmwebui.db import User

    db = client.app.state.services.db  # type: ignore[attr-defined]

    async def count() -> int:
        async with db.session() as s:
            return int(await s.scalar(select(func.count()).select_from(User)) or 0)

    assert client.portal is not None
    return client.portal.call(count)


def test_register_login_me_refresh_logout(client: TestClient) -> None:
    r = client.post(
        "/api/auth/register", json={"email": "Ann@Example.com", "password": "password123"}
    )
    assert r.status_code == 201
    assert r.json() == {"message": "User created successfully", "user_id": 1}

    r = client.post("/api/auth/login", json={"email": "ann@example.com", "password": "password123"})
    assert r.status_code == 200
    body = r.json()
    assert body["user"] == {"id": 1, "email": "ann@example.com", "role": "admin"}
    cookies = r.headers.get_list("set-cookie")
    access_cookie = next(c for c in cookies if c.startswith("access_token="))
    refresh_cookie = next(c for c in cookies if c.startswith("refresh_token="))
    for c in (access_cookie, refresh_cookie):
        assert "HttpOnly" in c and "SameSite=lax" in c and "Secure" not in c
    assert "Path=/api/auth" in refresh_cookie

    # cookie auth (TestClient keeps cookies) and bearer auth
    assert client.get("/api/auth/me").json()["email"] == "ann@example.com"
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200

    r = client.post("/api/auth/refresh")
    assert r.status_code == 200
    new = r.json()
    assert new["refresh_token"] != body["refresh_token"]
    assert (
        client.get(
            "/api/auth/me", headers={"Authorization": f"Bearer {new['access_token']}"}
        ).status_code
        == 200
    )

    r = client.post("/api/auth/logout")
    assert r.status_code == 200 and r.json()["status"] == "success"
    # the session is revoked server-side: the old access token no longer works
    r = client.get("/api/auth/me", headers={"Authorization": f"Bearer {new['access_token']}"})
    assert_error(r, 401, "INVALID_TOKEN")
    client.cookies.clear()
    assert_error(client.get("/api/auth/me"), 401, "AUTH_REQUIRED")


def test_second_user_is_plain_user_and_admin_emails(client_factory, tmp_path: Path) -> None:
    c = client_factory(admin_emails="boss@example.com", rate_limits={"enabled": False})
    register_and_login(c, "first@example.com")
    assert register_and_login(c, "second@example.com")["user"]["role"] == "user"
    assert register_and_login(c, "boss@example.com")["user"]["role"] == "admin"


def test_registration_can_be_disabled(client_factory) -> None:
    c = client_factory(allow_registration=False)
    r = c.post("/api/auth/register", json={"email": "a@example.com", "password": "password123"})
    assert_error(r, 403, "PERMISSION_DENIED")


def test_malformed_and_invalid_bodies(client: TestClient) -> None:
    r = client.post(
        "/api/auth/register",
        content=b'{"email": "a@b.c", "pass',
        headers={"content-type": "application/json"},
    )
    body = assert_error(r, 400, "VALIDATION_ERROR")
    assert body["fields"][0]["message"] == "malformed JSON"
    body = assert_error(
        client.post("/api/auth/register", json={"email": "a@example.com"}), 400, "VALIDATION_ERROR"
    )
    assert [f["field"] for f in body["fields"]] == ["password"]
    r = client.post(
        "/api/auth/register",
        json={"email": "a@example.com", "password": "password123", "admin": True},
    )
    assert "admin" in assert_error(r, 400, "VALIDATION_ERROR")["detail"]
    r = client.post("/api/auth/register", json={"email": "not-an-email", "password": "password123"})
    assert assert_error(r, 400, "VALIDATION_ERROR")["fields"][0]["field"] == "email"
    r = client.post("/api/auth/register", json={"email": "a@example.com", "password": "short"})
    assert_error(r, 400, "VALIDATION_ERROR")
    r = client.post(
        "/api/auth/register", json={"email": "a@example.com", "password": "x" * 1_000_000}
    )
    assert_error(r, 400, "VALIDATION_ERROR")
    assert _count_users(client) == 0


def test_duplicate_registration_is_conflict_without_second_row(client: TestClient) -> None:
    register_and_login(client, "dup@example.com")
    r = client.post(
        "/api/auth/register", json={"email": "DUP@example.com", "password": "password9"}
    )
    assert_error(r, 409, "CONFLICT")
    assert _count_users(client) == 1


def test_concurrent_registrations_of_one_email(client: TestClient) -> None:
    def attempt(_: int) -> int:
        r = client.post(
            "/api/auth/register", json={"email": "race@example.com", "password": "password123"}
        )
        return r.status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(attempt, range(8)))
    assert sorted(codes) == [201] + [409] * 7
    assert _count_users(client) == 1


def test_wrong_password_and_unknown_user(client: TestClient) -> None:
    register_and_login(client)
    r = client.post("/api/auth/login", json={"email": "user@example.com", "password": "wrongpass1"})
    assert_error(r, 401, "INVALID_CREDENTIALS")
    r = client.post(
        "/api/auth/login", json={"email": "nobody@example.com", "password": "password1"}
    )
    assert_error(r, 401, "INVALID_CREDENTIALS")


def test_bad_tokens_are_rejected(client: TestClient, tmp_path: Path) -> None:
    tokens = register_and_login(client)
    client.cookies.clear()
    access, refresh = tokens["access_token"], tokens["refresh_token"]

    def me(token: str) -> object:
        return client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})

    assert me(access).status_code == 200
    # tampered payload, same signature
    head, payload, sig = access.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "admin"
    claims["sub"] = "999"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert_error(me(f"{head}.{forged}.{sig}"), 401, "INVALID_TOKEN")
    # alg=none
    none_token = jwt.encode(claims, key=None, algorithm="none")  # type: ignore[arg-type]
    assert_error(me(none_token), 401, "INVALID_TOKEN")
    # wrong key
    assert_error(me(jwt.encode(claims, "x" * 40, algorithm="HS256")), 401, "INVALID_TOKEN")
    # expired, correctly signed
    secret = _secret(tmp_path)
    valid = jwt.decode(access, secret, algorithms=["HS256"], issuer="lmwebui")
    valid.update(iat=int(time.time()) - 100, exp=int(time.time()) - 10)
    expired = jwt.encode(valid, secret, algorithm="HS256")
    assert "expired" in assert_error(me(expired), 401, "INVALID_TOKEN")["detail"]
    # garbage
    assert_error(me("not.a.jwt"), 401, "INVALID_TOKEN")
    # a refresh token is not an access token ...
    assert_error(me(refresh), 401, "INVALID_TOKEN")
    # ... and an access token is not a refresh token
    r = client.post("/api/auth/refresh", json={"refresh_token": access})
    assert_error(r, 401, "INVALID_TOKEN")


def test_reused_refresh_token_revokes_the_family(client: TestClient) -> None:
    tokens = register_and_login(client)
    client.cookies.clear()
    first = tokens["refresh_token"]
    r = client.post("/api/auth/refresh", json={"refresh_token": first})
    assert r.status_code == 200
    second = r.json()
    client.cookies.clear()
    # replaying the rotated token: rejected, and the whole session goes
    r = client.post("/api/auth/refresh", json={"refresh_token": first})
    assert "reuse" in assert_error(r, 401, "INVALID_TOKEN")["detail"]
    r = client.post("/api/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert_error(r, 401, "INVALID_TOKEN")
    r = client.get("/api/auth/me", headers={"Authorization": f"Bearer {second['access_token']}"})
    assert_error(r, 401, "INVALID_TOKEN")
    # a new login still works
    r = client.post(
        "/api/auth/login", json={"email": "user@example.com", "password": "password123"}
    )
    assert r.status_code == 200


def test_cookies_of_a_deleted_user(client: TestClient) -> None:
    register_and_login(client, "admin@example.com")  # the first account, the admin, stays
    client.cookies.clear()
    register_and_login(client, "gone@example.com")
    assert client.get("/api/auth/me").status_code == 200
    cookies = dict(client.cookies)
    assert client.delete("/api/auth/me").status_code == 200
    client.cookies.update(cookies)
    assert_error(client.get("/api/auth/me"), 401, "INVALID_TOKEN")
    assert_error(
        client.post("/api/auth/refresh", json={"refresh_token": "x.y.z"}), 401, "INVALID_TOKEN"
    )
    assert _count_users(client) == 1
