"""Stream sessions: started over REST, claimed exactly once by a WebSocket on any replica."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update

from lmwebui.db import Database
from lmwebui.db.models import StreamSession
from lmwebui.errors import NotFound

SESSION_TTL = timedelta(minutes=10)


def new_session_id() -> str:
    return f"session_{uuid.uuid4().hex[:24]}"


class StreamSessions:
    """Pending turns in the database, so the socket that runs one may land on any replica."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, user_id: int, request_json: str) -> str:
        session_id = new_session_id()
        now = datetime.now(UTC)
        async with self.db.session() as s, s.begin():
            s.add(
                StreamSession(
                    id=session_id,
                    user_id=user_id,
                    request_json=request_json,
                    status="pending",
                    created_at=now,
                )
            )
            # housekeeping: sessions nobody picked up
            await s.execute(
                delete(StreamSession).where(StreamSession.created_at < now - SESSION_TTL)
            )
        return session_id

    async def claim(self, user_id: int, session_id: str) -> str:
        """Atomically take a pending session of this user; returns its request JSON."""
        async with self.db.session() as s, s.begin():
            result = await s.execute(
                update(StreamSession)
                .where(
                    StreamSession.id == session_id,
                    StreamSession.user_id == user_id,
                    StreamSession.status == "pending",
                )
                .values(status="claimed")
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise NotFound("Stream session not found or already used")
            request_json = await s.scalar(
                select(StreamSession.request_json).where(StreamSession.id == session_id)
            )
        if request_json is None:
            raise NotFound("Stream session not found or already used")
        return request_json
