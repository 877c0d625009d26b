"""Admins through HTTP: the last admin cannot leave, and the first-user rule (the first
account is an admin) holds once per database, never again (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import delete, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from lmwebui.db import User
from lmwebui.db.database import MIGRATIONS_DIR
from tests.support.api import assert_error, credentials, login_as
from tests.support.app import ClientFactory


def _role(client: TestClient, headers: dict[str, str]) -> str:
    role: str = client.get("/api/auth/me", headers=headers).json()["role"]
    return role


def _delete_all_users(client: TestClient) -> None:
    """What an operator's hand (or an old release) could leave: no account at all."""
    db = client.app.state.services.db  # type: ignore[attr-defined]

    async def wipe() -> None:
        async with db.session() as s:
            await s.execute(delete(User))
            await s.commit()

    assert client.portal is not None
    client.portal.call(wipe)


def test_the_only_admin_cannot_delete_their_account(client: TestClient) -> None:
    admin = login_as(client, "admin@example.com")
    user = login_as(client, "user@example.com")
    assert _role(client, admin) == "admin"
    body = assert_error(client.delete("/api/auth/me", headers=admin), 409, "LAST_ADMIN")
    assert "only admin" in body["detail"]
    assert _role(client, admin) == "admin"  # still there, still logged in
    # an ordinary user leaves freely; the next stranger is an ordinary user
    assert client.delete("/api/auth/me", headers=user).status_code == 200
    assert _role(client, login_as(client, "stranger@example.com")) == "user"


def test_an_admin_may_leave_while_another_admin_stays(client_factory: ClientFactory) -> None:
    client = client_factory(admin_emails=["boss@example.com"], rate_limits={"enabled": False})
    first = login_as(client, "first@example.com")
    boss = login_as(client, "boss@example.com")
    assert _role(client, first) == _role(client, boss) == "admin"
    assert client.delete("/api/auth/me", headers=first).status_code == 200
    assert_error(client.delete("/api/auth/me", headers=boss), 409, "LAST_ADMIN")
    assert _role(client, login_as(client, "stranger@example.com")) == "user"


def test_two_admins_leaving_at_once_leave_one(client_factory: ClientFactory) -> None:
    admins = ["a@example.com", "b@example.com"]
    client = client_factory(admin_emails=admins, rate_limits={"enabled": False})
    headers = [login_as(client, email) for email in admins]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda h: client.delete("/api/auth/me", headers=h), headers))
    assert sorted(r.status_code for r in answers) == [200, 409]


def test_first_user_rule_holds_once_per_database(client: TestClient) -> None:
    assert _role(client, login_as(client, "first@example.com")) == "admin"
    _delete_all_users(client)
    assert _role(client, login_as(client, "stranger@example.com")) == "user"


async def _old_release_with_an_account(database_url: str) -> None:
    def upgrade(conn: Connection) -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003_rag")
        conn.execute(
            text(
                "INSERT INTO users (email, password_hash, role, created_at) "
                "VALUES ('old@example.com', 'x', 'admin', CURRENT_TIMESTAMP)"
            )
        )

    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(upgrade)
    finally:
        await engine.dispose()


def test_upgraded_database_with_accounts_never_reapplies_the_rule(
    client_factory: ClientFactory, database_url: str
) -> None:
    """A database made by a release before the instance row: its accounts count as the
    first admin having been made."""
    asyncio.run(_old_release_with_an_account(database_url))
    client = client_factory(database_url=database_url, rate_limits={"enabled": False})
    _delete_all_users(client)
    r = client.post("/api/auth/register", json=credentials("new@example.com"))
    assert r.status_code == 201
    assert _role(client, login_as(client, "new@example.com")) == "user"
