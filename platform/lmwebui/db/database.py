"""Async engine + sessions, and Alembic migrations applied at start (once, under a lock)."""

from __future__ import annotations

import asyncio
import fcntl
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from lmwebui.errors import ServiceUnavailable

logger = logging.getLogger("lmwebui.db")
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_MIGRATION_LOCK = 716_204_001


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return on_connect


class Database:
    """Owns the engine; built in the app lifespan, never at import time."""

    def __init__(self, url: str, *, echo: bool = False, busy_timeout_ms: int = 10_000) -> None:
        self.url = make_url(url)
        self.busy_timeout_ms = busy_timeout_ms
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            db_path = self.url.database
            if db_path and db_path != ":memory:":
                Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas(self.busy_timeout_ms))
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def kind(self) -> str:
        return "sqlite" if self.is_sqlite else "postgresql"

    def describe(self) -> dict[str, Any]:
        """Type and location, never credentials."""
        if self.is_sqlite:
            return {"type": "sqlite", "path": self.url.database}
        host, port, name = self.url.host, self.url.port or 5432, self.url.database
        return {
            "type": "postgresql",
            "path": f"{host}:{port}/{name}",  # the reference's field: where, no credentials
            "host": host,
            "port": port,
            "database": name,
        }

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        try:
            async with self.sessionmaker() as session:
                yield session
        except (OperationalError, InterfaceError, ConnectionError) as exc:
            # A SQLite file locked past the busy timeout (writers in several processes), a
            # server that refuses connections or dropped one: a retryable 503 in the error
            # contract, never a 500. The session rolled the transaction back.
            logger.warning("database unavailable: %s", getattr(exc, "orig", exc))
            raise ServiceUnavailable(
                "The database is busy or unavailable; retry shortly",
                headers={"Retry-After": "1"},
            ) from exc

    async def migrate(self) -> None:
        """Bring the schema to head. Safe to call from several replicas at once."""
        if self.is_sqlite:
            await asyncio.to_thread(self._with_file_lock)
            return
        async with self.engine.connect() as conn:
            await conn.execute(text(f"SELECT pg_advisory_lock({_PG_MIGRATION_LOCK})"))
            try:
                await conn.run_sync(self._upgrade)
                await conn.commit()
            finally:
                await conn.execute(text(f"SELECT pg_advisory_unlock({_PG_MIGRATION_LOCK})"))

    def _with_file_lock(self) -> None:
        db_path = self.url.database
        lock_path = Path(f"{db_path}.migrate.lock") if db_path else None
        if lock_path is None or db_path == ":memory:":
            asyncio.run(self._sqlite_upgrade())
            return
        with lock_path.open("w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                asyncio.run(self._sqlite_upgrade())
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    async def _sqlite_upgrade(self) -> None:
        engine = create_async_engine(self.url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(self.busy_timeout_ms))
        try:
            async with engine.connect() as conn:
                await conn.run_sync(self._upgrade)
                await conn.commit()
        finally:
            await engine.dispose()

    @staticmethod
    def _upgrade(connection: Connection) -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()
