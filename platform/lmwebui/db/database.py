"""Async engine + sessions, and Alembic migrations applied at start (once, under a lock)."""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_MIGRATION_LOCK = 716_204_001


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


class Database:
    """Owns the engine; built in the app lifespan, never at import time."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = make_url(url)
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
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def kind(self) -> str:
        return "sqlite" if self.is_sqlite else "postgresql"

    def describe(self) -> dict[str, Any]:
        """Type and location, never credentials."""
        if self.is_sqlite:
            return {"type": "sqlite", "path": self.url.database}
        return {
            "type": "postgresql",
            "host": self.url.host,
            "port": self.url.port,
            "database": self.url.database,
        }

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session

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
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
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
