"""Platform API keys for the OpenAI-compatible /v1 endpoints. Only a SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, select, update

from lmwebui.auth.schemas import ApiKeyCreated, ApiKeyOut
from lmwebui.auth.service import CurrentUser
from lmwebui.db import Database, User
from lmwebui.db.models import ApiKey
from lmwebui.errors import InvalidToken, NotFound, iso_utc

KEY_PREFIX = "lmw-"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_api_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


class ApiKeyService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, user_id: int, name: str) -> ApiKeyCreated:
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        row = ApiKey(
            id=f"key_{uuid.uuid4().hex[:16]}",
            user_id=user_id,
            name=name,
            key_hash=_hash(key),
            prefix=key[:10],
            created_at=datetime.now(UTC),
        )
        async with self.db.session() as s, s.begin():
            s.add(row)
        return ApiKeyCreated(id=row.id, name=name, key=key, prefix=row.prefix)

    async def list(self, user_id: int) -> list[ApiKeyOut]:
        async with self.db.session() as s:
            rows = (
                await s.scalars(
                    select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at)
                )
            ).all()
        return [
            ApiKeyOut(
                id=r.id,
                name=r.name,
                prefix=r.prefix,
                created_at=iso_utc(r.created_at),
                last_used_at=iso_utc(r.last_used_at) if r.last_used_at else None,
            )
            for r in rows
        ]

    async def delete(self, user_id: int, key_id: str) -> None:
        async with self.db.session() as s, s.begin():
            result = await s.execute(
                delete(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user_id)
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFound("API key not found")

    async def authenticate(self, key: str) -> CurrentUser:
        async with self.db.session() as s, s.begin():
            row = (
                await s.execute(
                    select(ApiKey.id, User.id, User.email, User.role)
                    .join(User, User.id == ApiKey.user_id)
                    .where(ApiKey.key_hash == _hash(key))
                )
            ).first()
            if row is None:
                raise InvalidToken("Invalid API key")
            await s.execute(
                update(ApiKey).where(ApiKey.id == row[0]).values(last_used_at=datetime.now(UTC))
            )
        return CurrentUser(row[1], row[2], row[3], session_id=f"apikey:{row[0]}")
