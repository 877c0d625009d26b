"""Users' upstream provider keys, Fernet-encrypted at rest, only ever shown masked."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.fernet import Fernet
from sqlalchemy import delete, select

from lmwebui.chat.schemas import ProviderKeyOut, ProviderKeySet
from lmwebui.db import Database
from lmwebui.db.models import ProviderKey
from lmwebui.errors import NotFound, ValidationFailed, iso_utc
from lmwebui.netpolicy import OutboundPolicy, OutboundRefused

KEYED_PROVIDERS = {"openai"}


def mask(key: str) -> str:
    return f"{key[:3]}…{key[-4:]}" if len(key) > 8 else "…"


class ProviderKeyService:
    def __init__(self, db: Database, fernet_key: bytes, policy: OutboundPolicy) -> None:
        self.db = db
        self.fernet = Fernet(fernet_key)
        self.policy = policy

    @staticmethod
    def _check(provider: str) -> str:
        provider = provider.lower()
        if provider not in KEYED_PROVIDERS:
            raise ValidationFailed(f"Provider '{provider}' does not take an API key")
        return provider

    async def set(
        self, user_id: int, provider: str, api_key: str, base_url: str | None
    ) -> ProviderKeySet:
        provider = self._check(provider)
        if base_url is not None:
            await self._check_url(base_url)
        token = self.fernet.encrypt(api_key.encode()).decode()
        async with self.db.session() as s, s.begin():
            await s.execute(
                delete(ProviderKey).where(
                    ProviderKey.user_id == user_id, ProviderKey.provider == provider
                )
            )
            s.add(
                ProviderKey(
                    user_id=user_id,
                    provider=provider,
                    encrypted_key=token,
                    key_hint=mask(api_key),
                    base_url=base_url,
                    created_at=datetime.now(UTC),
                )
            )
        return ProviderKeySet(provider=provider, key=mask(api_key), base_url=base_url)

    async def _check_url(self, base_url: str) -> None:
        """A user's base URL is where the platform will send the key and the prompts: it must
        pass the outbound policy (public addresses only unless an admin allows the host)."""
        try:
            await self.policy.check_url(base_url)
        except OutboundRefused as exc:
            raise ValidationFailed(
                f"base_url is refused by the outbound URL policy: {exc}",
                extra={"fields": [{"field": "base_url", "message": str(exc)}]},
            ) from None

    async def list(self, user_id: int) -> list[ProviderKeyOut]:
        async with self.db.session() as s:
            rows = (
                await s.scalars(
                    select(ProviderKey)
                    .where(ProviderKey.user_id == user_id)
                    .order_by(ProviderKey.provider)
                )
            ).all()
        return [
            ProviderKeyOut(
                provider=r.provider,
                key=r.key_hint,
                base_url=r.base_url,
                created_at=iso_utc(r.created_at),
            )
            for r in rows
        ]

    async def delete(self, user_id: int, provider: str) -> None:
        provider = self._check(provider)
        async with self.db.session() as s, s.begin():
            result = await s.execute(
                delete(ProviderKey).where(
                    ProviderKey.user_id == user_id, ProviderKey.provider == provider
                )
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFound("No key stored for this provider")

    async def lookup(self, user_id: int, provider: str) -> tuple[str, str | None] | None:
        async with self.db.session() as s:
            row = await s.scalar(
                select(ProviderKey).where(
                    ProviderKey.user_id == user_id, ProviderKey.provider == provider
                )
            )
        if row is None:
            return None
        return self.fernet.decrypt(row.encrypted_key.encode()).decode(), row.base_url
