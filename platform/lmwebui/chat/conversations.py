"""Conversations and messages: every query is scoped to the owning user."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from lmwebui.chat.protocol import ChatMessage
from lmwebui.chat.schemas import ConversationDetail, ConversationSummary, MessageOut
from lmwebui.db import Database
from lmwebui.db.models import Conversation, Message
from lmwebui.errors import NotFound, iso_utc

HISTORY_LIMIT = 200  # newest messages loaded as context (the engine trims to its window)
TITLE_QUERY_MAX = 200  # longest title search (titles are at most 60 characters)


def new_conversation_id() -> str:
    return f"conv_{uuid.uuid4().hex[:20]}"


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex[:20]}"


def title_pattern(q: str) -> str:
    """A LIKE pattern matching titles that contain ``q``; its own %, _ and \\ are literal."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def make_title(message: str) -> str:
    first = " ".join(message.strip().split())
    return first if len(first) <= 60 else first[:57].rstrip() + "..."


@dataclass(frozen=True)
class Turn:
    """A finished exchange to persist in one transaction."""

    user_text: str
    assistant_text: str
    model: str
    provider: str
    prompt_tokens: int
    completion_tokens: int


def _new_conversation(cid: str, user_id: int, turn: Turn, now: datetime) -> Conversation:
    return Conversation(
        id=cid,
        user_id=user_id,
        title=make_title(turn.user_text),
        provider=turn.provider,
        model=turn.model,
        message_count=0,
        created_at=now,
        updated_at=now,
    )


class ConversationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _owned(self, s: Any, user_id: int, conversation_id: str) -> Conversation:
        conv = await s.scalar(
            select(Conversation).where(
                Conversation.id == conversation_id, Conversation.user_id == user_id
            )
        )
        if conv is None:
            raise NotFound("Conversation not found")
        return conv  # type: ignore[no-any-return]

    async def history(self, user_id: int, conversation_id: str) -> list[ChatMessage]:
        async with self.db.session() as s:
            await self._owned(s, user_id, conversation_id)
            rows = (
                await s.scalars(
                    select(Message)
                    .where(Message.conversation_id == conversation_id)
                    .order_by(Message.seq.desc())
                    .limit(HISTORY_LIMIT)
                )
            ).all()
        return [ChatMessage(role=m.role, content=m.content) for m in reversed(rows)]  # type: ignore[arg-type]

    async def ensure_access(self, user_id: int, conversation_id: str) -> None:
        async with self.db.session() as s:
            await self._owned(s, user_id, conversation_id)

    async def record_turn(
        self, user_id: int, conversation_id: str | None, turn: Turn, new_id: str
    ) -> tuple[str, str]:
        """Persist the user and assistant messages atomically; creates the conversation on
        its first turn. Returns (conversation_id, assistant message id)."""
        now = datetime.now(UTC)
        assistant_id = new_message_id()
        async with self.db.session() as s, s.begin():
            if conversation_id is None:
                conversation_id = new_id
                s.add(_new_conversation(new_id, user_id, turn, now))
                await s.flush()
            result = await s.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.user_id == user_id)
                .values(
                    message_count=Conversation.message_count + 2,
                    updated_at=now,
                    model=turn.model,
                    provider=turn.provider,
                )
                .returning(Conversation.message_count)
            )
            count = result.scalar_one_or_none()
            if count is None:  # deleted meanwhile, or not the caller's
                raise NotFound("Conversation not found")
            s.add_all(
                [
                    Message(
                        id=new_message_id(),
                        conversation_id=conversation_id,
                        seq=count - 2,
                        role="user",
                        content=turn.user_text,
                        created_at=now,
                        prompt_tokens=turn.prompt_tokens,
                    ),
                    Message(
                        id=assistant_id,
                        conversation_id=conversation_id,
                        seq=count - 1,
                        role="assistant",
                        content=turn.assistant_text,
                        model=turn.model,
                        completion_tokens=turn.completion_tokens,
                        created_at=now,
                    ),
                ]
            )
        return conversation_id, assistant_id

    async def list(
        self, user_id: int, offset: int, limit: int, q: str | None = None
    ) -> tuple[list[ConversationSummary], int]:
        """The user's conversations, newest first; ``q``: only titles containing it (case
        folded: ASCII on SQLite, every letter on PostgreSQL)."""
        where = [Conversation.user_id == user_id]
        if q and q.strip():
            where.append(Conversation.title.ilike(title_pattern(q.strip()), escape="\\"))
        async with self.db.session() as s:
            total = int(
                await s.scalar(select(func.count()).select_from(Conversation).where(*where)) or 0
            )
            rows = (
                await s.scalars(
                    select(Conversation)
                    .where(*where)
                    .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
                    .offset(offset)
                    .limit(limit)
                )
            ).all()
        return [
            ConversationSummary(
                id=c.id,
                title=c.title,
                created_at=iso_utc(c.created_at),
                updated_at=iso_utc(c.updated_at),
                message_count=c.message_count,
                model=c.model,
                provider=c.provider,
            )
            for c in rows
        ], total

    async def get(self, user_id: int, conversation_id: str) -> ConversationDetail:
        async with self.db.session() as s:
            conv = await self._owned(s, user_id, conversation_id)
            msgs = (
                await s.scalars(
                    select(Message)
                    .where(Message.conversation_id == conversation_id)
                    .order_by(Message.seq)
                )
            ).all()
        return ConversationDetail(
            id=conv.id,
            title=conv.title,
            created_at=iso_utc(conv.created_at),
            updated_at=iso_utc(conv.updated_at),
            model=conv.model,
            provider=conv.provider,
            messages=[
                MessageOut(
                    id=m.id,
                    role=m.role,
                    content=m.content,
                    timestamp=iso_utc(m.created_at),
                    model=m.model,
                    tokens=m.completion_tokens if m.role == "assistant" else m.prompt_tokens,
                )
                for m in msgs
            ],
        )

    async def delete(self, user_id: int, conversation_id: str) -> None:
        async with self.db.session() as s, s.begin():
            result = await s.execute(
                delete(Conversation).where(
                    Conversation.id == conversation_id, Conversation.user_id == user_id
                )
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFound("Conversation not found")
