"""/api/conversations: list (paginated), get, delete — always the caller's own."""

from __future__ import annotations

from fastapi import APIRouter, Response

from lmwebui.api.deps import ConversationsDep, CurrentUserDep, PageDep
from lmwebui.api.responses import errors
from lmwebui.api.schemas import StatusMessage
from lmwebui.chat.schemas import ConversationList, ConversationOut

router = APIRouter(prefix="/api/conversations", tags=["conversations"], responses=errors(401))


@router.get("", response_model=ConversationList, responses=errors(400))
async def list_conversations(
    user: CurrentUserDep, conversations: ConversationsDep, page: PageDep, response: Response
) -> ConversationList:
    """Newest first; pagination headers X-Total-Count, X-Total-Pages, X-Current-Page."""
    items, total = await conversations.list(user.id, page.offset, page.limit)
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
