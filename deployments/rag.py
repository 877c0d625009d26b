"""The RAG part of the application graph: Embedder, Documents and Retriever."""

from __future__ import annotations

from typing import Any

from deployments.config import AppArgs
from deployments.documents import Documents
from deployments.embedder import Embedder
from deployments.retriever import Retriever
from lmwebui.rag.backends import is_milvus_lite, milvus_uri
from lmwebui.settings import load_settings

RAG_DEPLOYMENTS = ("Embedder", "Documents", "Retriever")


def rag_handles(args: AppArgs) -> dict[str, Any]:
    """Bound deployments by name, or nothing when RAG is off (all three are needed)."""
    parts = (args.embedder, args.documents, args.retriever)
    if any(p is None for p in parts):
        return {}
    settings = load_settings(**args.settings)
    if not settings.rag.enabled:
        return {}
    embedder, documents, retriever = parts
    assert embedder is not None and documents is not None and retriever is not None
    retriever_opts = retriever.serve_options()
    if is_milvus_lite(milvus_uri(settings)) and retriever_opts.get("num_replicas") != 1:
        raise ValueError(
            "A Milvus Lite file allows one Retriever replica; set rag.milvus_uri to a Milvus "
            "server to scale the Retriever out"
        )
    return {
        "Embedder": Embedder.options(**embedder.serve_options()).bind(args.settings),  # type: ignore[attr-defined]
        "Documents": Documents.options(**documents.serve_options()).bind(args.settings),  # type: ignore[attr-defined]
        "Retriever": Retriever.options(**retriever_opts).bind(args.settings),  # type: ignore[attr-defined]
    }
