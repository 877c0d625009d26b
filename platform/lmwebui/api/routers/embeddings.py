"""OpenAI-compatible POST /v1/embeddings (JWT or platform API key, like the other /v1)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from lmwebui.api.deps import ApiUserDep, RagDep, V1ChatRateLimit
from lmwebui.rag.schemas import EmbeddingsRequest, embeddings_response

router = APIRouter(prefix="/v1", tags=["openai"])


@router.post("/embeddings", dependencies=[V1ChatRateLimit])
async def create_embeddings(
    body: EmbeddingsRequest, _user: ApiUserDep, rag: RagDep
) -> dict[str, Any]:
    texts = body.texts(rag.settings)
    info = await rag.backends.embedder.info()
    body.check_model(info)
    result = await rag.embed_all(texts)
    return embeddings_response(body, info, result)
