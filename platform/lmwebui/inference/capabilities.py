"""What a GGUF engine advertises, importable without llama.cpp (the ingress needs it)."""

from __future__ import annotations

from lmwebui.chat.engines.base import EngineCapabilities
from lmwebui.models.files import gguf_model_id

# The batched engine honours every parameter the request models accept (log probabilities
# are computed from the decoded logits when asked: inference/engine/logprobs.py).
GGUF_REFUSED_PARAMS: frozenset[str] = frozenset()


def gguf_capabilities(default_model: str, n_ctx_per_slot: int) -> EngineCapabilities:
    """The bundled and catalogued GGUF models do not write <think> themselves, so deep
    thinking runs a reasoning pass; one sequence holds one slot's context."""
    return EngineCapabilities(
        default_model=gguf_model_id(None, default_model),
        context_tokens=n_ctx_per_slot,
        refused_params=GGUF_REFUSED_PARAMS,
    )
