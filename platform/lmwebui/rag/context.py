"""Retrieved excerpts for a chat turn: what goes into the prompt and the citations."""

from __future__ import annotations

from dataclasses import dataclass, field

from lmwebui.chat.events import Citation
from lmwebui.rag.service import RagService
from lmwebui.rag.types import StoreHit

INSTRUCTIONS = (
    "Answer the question using the numbered excerpts from the user's documents below. "
    "Cite the excerpts you use like [1]. If they do not contain the answer, say so."
)
MIN_EXCERPT_TOKENS = 32
SNIPPET_CHARS = 280


def estimate_tokens(text: str) -> int:
    """A deliberately high estimate for any chat model's tokenizer (≈ 3 characters each)."""
    return len(text) // 3 + 1


@dataclass
class RagContext:
    prompt: str
    citations: list[Citation] = field(default_factory=list)


def _label(hit: StoreHit) -> str:
    page = f", page {hit.page}" if hit.page else ""
    return f"{hit.filename}{page}"


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The excerpt's start on one line, cut at a word within ``limit`` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] or flat[:limit]
    return cut + "…"


def build_context(message: str, hits: list[StoreHit], budget_tokens: int) -> RagContext:
    """Excerpts in rank order while they fit the budget; the question goes last."""
    parts: list[str] = []
    citations: list[Citation] = []
    used = estimate_tokens(INSTRUCTIONS) + estimate_tokens(message) + 16
    for hit in hits:
        block = f"[{len(parts) + 1}] {_label(hit)}:\n{hit.text.strip()}"
        cost = max(estimate_tokens(block), hit.tokens)
        if used + cost > budget_tokens:
            if budget_tokens - used < MIN_EXCERPT_TOKENS:
                break
            continue  # a shorter excerpt further down may still fit
        used += cost
        parts.append(block)
        citations.append(
            Citation(
                index=len(parts),
                document_id=hit.document_id,
                filename=hit.filename,
                page=hit.page,
                score=hit.score,
                chunk_id=hit.chunk_id,
                snippet=snippet(hit.text),
            )
        )
    if not parts:
        return RagContext(message, [])
    excerpts = "\n\n".join(parts)
    return RagContext(f"{INSTRUCTIONS}\n\n{excerpts}\n\nQuestion: {message}", citations)


class ChatRetrieval:
    """What ChatService calls for a ``use_rag`` turn."""

    def __init__(self, rag: RagService) -> None:
        self.rag = rag
        self.answer_reserve_tokens = rag.settings.chat_answer_reserve_tokens

    async def context(
        self, user_id: int, message: str, conversation_id: str | None, available_tokens: int
    ) -> RagContext:
        budget = min(
            self.rag.settings.chat_context_tokens + estimate_tokens(message) + 64, available_tokens
        )
        query = message.strip()[: self.rag.settings.max_query_chars]
        if budget <= estimate_tokens(message) + MIN_EXCERPT_TOKENS or not query:
            return RagContext(message, [])
        hits = await self.rag.search(
            user_id, query, self.rag.settings.chat_top_k, conversation_id, "hybrid"
        )
        return build_context(message, hits, budget)
