"""/api/conversations: list (paginated), get, delete — always the caller's own."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from lmwebui.api.deps import ConversationsDep, CurrentUserDep, PageDep
from lmwebui.api.responses import errors
from lmwebui.api.schemas import StatusMessage
from lmwebui.chat.conversations import TITLE_QUERY_MAX
from lmwebui.chat.schemas import ConversationList, ConversationOut

router = APIRouter(prefix="/api/conversations", tags=["conversations"], responses=errors(401))
TitleQuery = Annotated[
    str | None,
    Query(
        max_length=TITLE_QUERY_MAX,
        description="Only conversations whose title contains this (case-insensitive).",
    ),
]


@router.get("", response_model=ConversationList, responses=errors(400))
async def list_conversations(
    user: CurrentUserDep,
    conversations: ConversationsDep,
    page: PageDep,
    response: Response,
    q: TitleQuery = None,
) -> ConversationList:
    """Newest first, optionally only titles containing ``q``; pagination headers
    X-Total-Count, X-Total-Pages, X-Current-Page (of the filtered list)."""
    items, total = await conversations.list(user.id, page.offset, page.limit, q)
    page.headers(response, total)
    return ConversationList(conversations=items)


@router.get("/{conversation_id}", response_model=ConversationOut, responses=errors(404))
async def get_conversation(
    conversation_id: str, user: CurrentUserDep, conversations: ConversationsDep
) -> ConversationOut:
    return ConversationOut(conversation=await conversations.get(user.id, conversation_id))


@router.delete("/{conversation_id}", response_model=StatusMessage, responses=errors(404))
async def delete_conversation(
    conversation_id: str, user: CurrentUserDep, conversations: ConversationsDep
) -> StatusMessage:
    await conversations.delete(user.id, conversation_id)
    return StatusMessage(message="Conversation deleted")
