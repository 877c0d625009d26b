"""The SQL side of RAG documents: ownership, status, listing.

Status machine: pending (chunks being written) → ready (searchable) → deleting (chunks being
removed) → row gone. Only ``ready`` documents are ever returned by a search.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from lmwebui.db import Database
from lmwebui.db.models import Document
from lmwebui.errors import iso_utc
from lmwebui.rag.schemas import DocumentOut

PENDING, READY, DELETING = "pending", "ready", "deleting"


def new_document_id() -> str:
    return f"doc_{uuid.uuid4().hex[:20]}"


@dataclass(frozen=True)
class NewDocument:
    id: str
    user_id: int
    conversation_id: str | None
    filename: str
    kind: str
    content_type: str
    size_bytes: int
    sha256: str
    pages: int


def describe(d: Document) -> DocumentOut:
    return DocumentOut(
        document_id=d.id,
        filename=d.filename,
        kind=d.kind,
        content_type=d.content_type,
        size_bytes=d.size_bytes,
        pages=d.pages,
        chunks=d.chunks,
        status=d.status,
        conversation_id=d.conversation_id,
        created_at=iso_utc(d.created_at),
        updated_at=iso_utc(d.updated_at),
    )


class DocumentRegistry:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, doc: NewDocument) -> None:
        now = datetime.now(UTC)
        async with self.db.session() as s, s.begin():
            s.add(
                Document(
                    id=doc.id,
                    user_id=doc.user_id,
                    conversation_id=doc.conversation_id,
                    filename=doc.filename,
                    kind=doc.kind,
                    content_type=doc.content_type,
                    size_bytes=doc.size_bytes,
                    sha256=doc.sha256,
                    pages=doc.pages,
                    chunks=0,
                    status=PENDING,
                    created_at=now,
                    updated_at=now,
                )
            )

    async def _set_status(
        self, doc_id: str, to: str, *, only_from: tuple[str, ...], **values: Any
    ) -> bool:
        async with self.db.session() as s, s.begin():
            result = await s.execute(
                update(Document)
                .where(Document.id == doc_id, Document.status.in_(only_from))
                .values(status=to, updated_at=datetime.now(UTC), **values)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def mark_ready(self, doc_id: str, chunks: int) -> bool:
        """False when the row is gone or no longer pending (deleted during the ingest)."""
        return await self._set_status(doc_id, READY, only_from=(PENDING,), chunks=chunks)

    async def mark_deleting(self, doc_id: str) -> bool:
        return await self._set_status(doc_id, DELETING, only_from=(PENDING, READY, DELETING))

    async def claim_for_delete(self, user_id: int, doc_id: str) -> bool:
        """The caller's document (any status) moves to deleting; False if not theirs."""
        async with self.db.session() as s, s.begin():
            result = await s.execute(
                update(Document)
                .where(Document.id == doc_id, Document.user_id == user_id)
                .values(status=DELETING, updated_at=datetime.now(UTC))
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def remove(self, doc_id: str) -> None:
        async with self.db.session() as s, s.begin():
            await s.execute(delete(Document).where(Document.id == doc_id))

    async def get(self, user_id: int, doc_id: str) -> DocumentOut | None:
        async with self.db.session() as s:
            doc = await s.scalar(
                select(Document).where(
                    Document.id == doc_id,
                    Document.user_id == user_id,
                    Document.status != DELETING,
                )
            )
        return describe(doc) if doc is not None else None

    async def list_page(
        self, user_id: int, offset: int, limit: int, conversation_id: str | None = None
    ) -> tuple[list[DocumentOut], int]:
        """One page of the caller's documents, newest first, and how many there are."""
        where = [Document.user_id == user_id, Document.status != DELETING]
        if conversation_id is not None:
            where.append(Document.conversation_id == conversation_id)
        async with self.db.session() as s:
            total = int(
                await s.scalar(select(func.count()).select_from(Document).where(*where)) or 0
            )
            rows = (
                await s.scalars(
                    select(Document)
                    .where(*where)
                    .order_by(Document.created_at.desc(), Document.id.desc())
                    .offset(offset)
                    .limit(limit)
                )
            ).all()
        return [describe(d) for d in rows], total

    async def search_scope(
        self, user_id: int, conversation_id: str | None
    ) -> tuple[bool, bool, list[str]]:
        """(user has ready documents, the conversation has ready documents, ids that must
        not be searched: the user's documents that are not ready)."""
        async with self.db.session() as s:
            rows = (
                await s.execute(
                    select(Document.status, func.count())
                    .where(Document.user_id == user_id)
                    .group_by(Document.status)
                )
            ).all()
            counts = {status: int(n) for status, n in rows}
            in_conversation = False
            if conversation_id is not None and counts.get(READY):
                in_conversation = bool(
                    await s.scalar(
                        select(func.count())
                        .select_from(Document)
                        .where(
                            Document.user_id == user_id,
                            Document.conversation_id == conversation_id,
                            Document.status == READY,
                        )
                    )
                )
            excluded: list[str] = []
            if len(counts) > 1 or (counts and READY not in counts):
                excluded = list(
                    (
                        await s.scalars(
                            select(Document.id).where(
                                Document.user_id == user_id, Document.status != READY
                            )
                        )
                    ).all()
                )
        return bool(counts.get(READY)), in_conversation, excluded

    async def ready_ids(self, user_id: int, ids: set[str]) -> set[str]:
        if not ids:
            return set()
        async with self.db.session() as s:
            rows = await s.scalars(
                select(Document.id).where(
                    Document.user_id == user_id, Document.id.in_(ids), Document.status == READY
                )
            )
            return set(rows.all())

    async def mark_user_deleting(self, user_id: int) -> None:
        async with self.db.session() as s, s.begin():
            await s.execute(
                update(Document)
                .where(Document.user_id == user_id)
                .values(status=DELETING, updated_at=datetime.now(UTC))
            )

    async def remove_user_documents(self, user_id: int) -> None:
        async with self.db.session() as s, s.begin():
            await s.execute(delete(Document).where(Document.user_id == user_id))

    async def stale(
        self, pending_older_than_s: float, deleting_older_than_s: float
    ) -> list[tuple[str, int]]:
        """Ingests that never finished and deletes that never completed: (id, user_id)."""
        now = datetime.now(UTC)
        async with self.db.session() as s:
            rows = (
                await s.execute(
                    select(
                        Document.id, Document.user_id, Document.status, Document.updated_at
                    ).where(Document.status.in_((PENDING, DELETING)))
                )
            ).all()
        out = []
        for doc_id, user_id, status, updated in rows:
            if updated.tzinfo is None:
                updated = updated.replace(tzinfo=UTC)
            age = now - updated
            limit = pending_older_than_s if status == PENDING else deleting_older_than_s
            if age > timedelta(seconds=limit):
                out.append((doc_id, int(user_id)))
        return out
