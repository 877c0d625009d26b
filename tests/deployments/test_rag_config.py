"""The RAG part of the application graph: which workers are bound, and replica rules."""

from __future__ import annotations

import pytest

from deployments.config import AppArgs
from deployments.rag import RAG_DEPLOYMENTS, rag_handles


def test_rag_workers_are_bound_by_default() -> None:
    assert set(rag_handles(AppArgs())) == set(RAG_DEPLOYMENTS)


def test_rag_can_be_switched_off() -> None:
    assert rag_handles(AppArgs(settings={"rag": {"enabled": False}})) == {}
    assert rag_handles(AppArgs.model_validate({"documents": None})) == {}


def test_milvus_lite_allows_one_retriever_replica() -> None:
    with pytest.raises(ValueError, match="one Retriever replica"):
        rag_handles(AppArgs.model_validate({"retriever": {"num_replicas": 2}}))
    server = AppArgs.model_validate(
        {
            "retriever": {"num_replicas": 3},
            "settings": {"rag": {"milvus_uri": "http://milvus:19530"}},
        }
    )
    assert "Retriever" in rag_handles(server)


def test_settings_pass_rag_switch() -> None:
    from lmwebui.settings import Settings

    on = AppArgs.from_settings(Settings())
    assert on.embedder is not None and "milvus_token" not in on.settings["rag"]
    off = AppArgs.from_settings(Settings(rag={"enabled": False}))
    assert off.embedder is None and off.documents is None and off.retriever is None
