"""OpenAI-compatible POST /v1/embeddings (JWT or platform API key, like the other /v1)."""

from __future__ import annotations

from fastapi import APIRouter

from lmwebui.api.deps import ApiUserDep, RagDep, V1ChatRateLimit
from lmwebui.api.responses import errors
from lmwebui.rag.schemas import EmbeddingsRequest, EmbeddingsResponse

router = APIRouter(prefix="/v1", tags=["openai"])


@router.post(
    "/embeddings",
    dependencies=[V1ChatRateLimit],
    response_model=EmbeddingsResponse,
    responses=errors(400, 401, 404, 429, 503),
)
async def create_embeddings(
    body: EmbeddingsRequest, _user: ApiUserDep, rag: RagDep
) -> EmbeddingsResponse:
    return await rag.embeddings(body)
