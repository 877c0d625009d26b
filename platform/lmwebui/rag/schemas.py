"""OpenAI-compatible /v1/embeddings request and response."""

from __future__ import annotations

import base64
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from lmwebui.errors import ModelNotFound, ValidationFailed
from lmwebui.rag.types import EmbedderInfo, Embeddings
from lmwebui.settings import RagSettings


class EmbeddingsRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    input: str | list[str] = Field(description="Text or list of texts to embed.")
    model: str = Field(min_length=1, max_length=255, description="The embedding model id.")
    encoding_format: Literal["float", "base64"] = Field("float", description="Vector format.")
    dimensions: int | None = Field(None, ge=1, description="Must equal the model's dimension.")
    user: str | None = Field(None, max_length=256, description="End-user id (ignored).")

    def texts(self, settings: RagSettings) -> list[str]:
        texts = [self.input] if isinstance(self.input, str) else list(self.input)
        if not texts:
            raise ValidationFailed("input must not be empty")
        if len(texts) > settings.max_embedding_inputs:
            raise ValidationFailed(f"input has more than {settings.max_embedding_inputs} items")
        for i, text in enumerate(texts):
            if not text.strip():
                raise ValidationFailed(f"input[{i}] is empty")
            if len(text) > settings.max_embedding_input_chars:
                raise ValidationFailed(
                    f"input[{i}] is longer than {settings.max_embedding_input_chars} characters"
                )
        return texts

    def check_model(self, info: EmbedderInfo) -> None:
        wanted = self.model.strip().lower()
        names = {info.model.lower(), info.model.rsplit("/", 1)[-1].lower()}
        if wanted not in names:
            raise ModelNotFound(
                f"Embedding model '{self.model}' is not served here (available: {info.model})"
            )
        if self.dimensions is not None and self.dimensions != info.dim:
            raise ValidationFailed(f"dimensions must be {info.dim} for {info.model}")


class EmbeddingData(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str = Field(description="Floats, or base64 of little-endian f32.")


class EmbeddingsUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingsResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[EmbeddingData]
    model: str
    usage: EmbeddingsUsage


def embeddings_response(
    req: EmbeddingsRequest, info: EmbedderInfo, result: Embeddings
) -> EmbeddingsResponse:
    import numpy as np

    data: list[EmbeddingData] = []
    for i, vec in enumerate(result.vectors):
        embedding: list[float] | str
        if req.encoding_format == "base64":
            raw = np.asarray(vec, dtype="<f4").tobytes()
            embedding = base64.b64encode(raw).decode("ascii")
        else:
            embedding = [float(x) for x in vec]
        data.append(EmbeddingData(index=i, embedding=embedding))
    tokens = int(sum(result.tokens))
    return EmbeddingsResponse(
        data=data,
        model=info.model,
        usage=EmbeddingsUsage(prompt_tokens=tokens, total_tokens=tokens),
    )
