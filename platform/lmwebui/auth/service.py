"""Register, login, refresh (rotation with reuse detection), logout, current user."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lmwebui.auth.passwords import Passwords
from lmwebui.auth.tokens import TokenClaims, TokenCodec
from lmwebui.db import AuthSession, Database, InstanceState, RefreshToken, User
from lmwebui.errors import Conflict, InvalidCredentials, InvalidToken, LastAdmin, PermissionDenied

LAST_ADMIN_DETAIL = "You are the server's only admin: the account stays until another admin exists"


@dataclass(frozen=True)
class CurrentUser:
    id: int
    email: str
    role: str
    session_id: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def public(self) -> dict[str, object]:
        return {"id": self.id, "email": self.email, "role": self.role}


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    access_expires_in: int
    refresh_expires_in: int


def _now() -> datetime:
    return datetime.now(UTC)


class AuthService:
    def __init__(
        self,
        db: Database,
        codec: TokenCodec,
        *,
        admin_emails: list[str],
        allow_registration: bool,
        purge_hooks: Sequence[Callable[[int], Awaitable[object]]] = (),
    ) -> None:
        self.db = db
        # what else holds a user's data (e.g. RAG chunks): purged before the user row goes,
        # so a later account that gets the same id never sees it
        self.purge_hooks = list(purge_hooks)
        self.codec = codec
        self.passwords = Passwords()
        self.admin_emails = {e.lower() for e in admin_emails}
        self.allow_registration = allow_registration

    async def register(self, email: str, password: str) -> int:
        if not self.allow_registration:
            raise PermissionDenied("Registration is disabled on this server")
        email = email.lower()
        password_hash = await self.passwords.hash(password)
        # Two registrations racing for the first account: one commits the instance row,
        # the other fails on it and tries again as an ordinary user.
        for _attempt in range(2):
            user_id = await self._insert_user(email, password_hash)
            if user_id is not None:
                return user_id
        raise Conflict("A user with this email already exists")

    async def _insert_user(self, email: str, password_hash: str) -> int | None:
        """The new user's id, or None when a concurrent registration won the first slot.
        The first-user rule (first account is admin) holds once per database: the instance
        row is written in the same transaction and never removed."""
        async with self.db.session() as s:
            if await s.scalar(select(User.id).where(User.email == email)) is not None:
                raise Conflict("A user with this email already exists")
            first = await s.get(InstanceState, 1) is None
            role = "admin" if first or email in self.admin_emails else "user"
            user = User(email=email, password_hash=password_hash, role=role, created_at=_now())
            if first:
                s.add(InstanceState(id=1, first_user_at=_now()))
            s.add(user)
            try:
                await s.commit()
            except IntegrityError:
                await s.rollback()
                if first:
                    return None
                raise Conflict("A user with this email already exists") from None
            return user.id

    async def login(self, email: str, password: str) -> tuple[CurrentUser, IssuedTokens]:
        async with self.db.session() as s:
            user = await s.scalar(select(User).where(User.email == email.lower()))
            ok = await self.passwords.verify(user.password_hash if user else None, password)
            if user is None or not ok:
                raise InvalidCredentials("Invalid email or password")
            session = AuthSession(id=str(uuid.uuid4()), user_id=user.id, created_at=_now())
            s.add(session)
            await s.flush()
            tokens = self._issue(s, user=user, session_id=session.id)
            await s.commit()
            return CurrentUser(user.id, user.email, user.role, session.id), tokens

    def _issue(self, s: AsyncSession, *, user: User, session_id: str) -> IssuedTokens:
        access, _ = self.codec.issue(
            "access", user_id=user.id, session_id=session_id, role=user.role
        )
        refresh, claims = self.codec.issue(
            "refresh", user_id=user.id, session_id=session_id, role=user.role
        )
        s.add(
            RefreshToken(
                jti=claims.jti,
                session_id=session_id,
                issued_at=_now(),
                expires_at=datetime.fromtimestamp(claims.expires_at, UTC),
            )
        )
        return IssuedTokens(access, refresh, self.codec.access_ttl_s, self.codec.refresh_ttl_s)

    async def refresh(self, refresh_token: str) -> tuple[CurrentUser, IssuedTokens]:
        claims = self.codec.decode(refresh_token, "refresh")
        async with self.db.session() as s:
            row = await s.execute(
                select(RefreshToken, AuthSession, User)
                .join(AuthSession, RefreshToken.session_id == AuthSession.id)
                .join(User, AuthSession.user_id == User.id)
                .where(RefreshToken.jti == claims.jti)
            )
            found = row.first()
            if found is None:
                raise InvalidToken("Refresh token is not recognised")
            _token, session, user = found
            if session.revoked_at is not None:
                raise InvalidToken("Session has been revoked")
            # Atomic claim of the token: only one concurrent refresh may rotate it.
            claimed = await s.execute(
                update(RefreshToken)
                .where(RefreshToken.jti == claims.jti, RefreshToken.used_at.is_(None))
                .values(used_at=_now())
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                # Reuse of a rotated token: assume theft, revoke the whole family.
                await s.execute(
                    update(AuthSession)
                    .where(AuthSession.id == session.id)
                    .values(revoked_at=_now())
                )
                await s.commit()
                raise InvalidToken("Refresh token reuse detected; session revoked")
            tokens = self._issue(s, user=user, session_id=session.id)
            await s.commit()
            return CurrentUser(user.id, user.email, user.role, session.id), tokens

    async def logout(self, session_id: str) -> None:
        async with self.db.session() as s:
            await s.execute(
                update(AuthSession)
                .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
                .values(revoked_at=_now())
            )
            await s.commit()

    async def logout_tokens(self, access: str | None, refresh: str | None) -> None:
        """Revoke the session behind the access token, else the refresh token (either may
        be expired or forged: logging out never fails)."""
        session_id: str | None = None
        if access:
            with contextlib.suppress(InvalidToken):
                session_id = (await self.authenticate(access)).session_id
        if session_id is None and refresh:
            with contextlib.suppress(InvalidToken):
                session_id = self.codec.decode(refresh, "refresh").session_id
        if session_id is not None:
            await self.logout(session_id)

    async def authenticate(self, access_token: str) -> CurrentUser:
        claims: TokenClaims = self.codec.decode(access_token, "access")
        async with self.db.session() as s:
            row = await s.execute(
                select(User.id, User.email, User.role, AuthSession.revoked_at)
                .join(AuthSession, AuthSession.user_id == User.id)
                .where(User.id == claims.user_id, AuthSession.id == claims.session_id)
            )
            found = row.first()
        if found is None:
            raise InvalidToken("User or session no longer exists")
        if found.revoked_at is not None:
            raise InvalidToken("Session has been revoked")
        return CurrentUser(found.id, found.email, found.role, claims.session_id)

    async def delete_user(self, user_id: int) -> None:
        """Delete the account and its data; the last admin cannot (LastAdmin, 409)."""
        async with self.db.session() as s:
            await self._refuse_last_admin(s, user_id)
        for purge in self.purge_hooks:
            await purge(user_id)
        async with self.db.session() as s:
            await self._refuse_last_admin(s, user_id)  # again: another admin may have left
            # One statement decides and deletes, so two admins leaving at once cannot both
            # see the other one stay (SQLite serialises the statement; PostgreSQL holds
            # the admin rows locked by the check above).
            other_admins = (
                select(func.count())
                .select_from(User)
                .where(User.role == "admin", User.id != user_id)
                .scalar_subquery()
            )
            gone = await s.execute(
                delete(User)
                .where(User.id == user_id, or_(User.role != "admin", other_admins > 0))
                .execution_options(synchronize_session=False)
            )
            deleted: int = gone.rowcount  # type: ignore[attr-defined]
            if deleted == 0 and await s.get(User, user_id) is not None:
                raise LastAdmin(LAST_ADMIN_DETAIL)
            await s.commit()

    @staticmethod
    async def _refuse_last_admin(s: AsyncSession, user_id: int) -> None:
        if await s.scalar(select(User.role).where(User.id == user_id)) != "admin":
            return
        # Locks the admin rows (PostgreSQL) so two admins leaving at once cannot both go.
        admins = await s.scalars(select(User.id).where(User.role == "admin").with_for_update())
        if list(admins) == [user_id]:
            raise LastAdmin(LAST_ADMIN_DETAIL)
