"""RAG for in-process tests: the real embedding model, docling and OCR load once per module;
every app gets its own Milvus Lite file in its data dir (so user ids of one test's database
never meet another test's chunks)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from lmwebui.api.services import Runtime
from lmwebui.rag.backends import (
    DocumentsWorker,
    LocalDocuments,
    LocalEmbedder,
    RagBackends,
    StoreRetriever,
    build_store,
)
from lmwebui.rag_settings import RagSettings
from lmwebui.settings import Settings
from tests.support.app import app_client, make_settings

Wrap = Callable[[RagBackends], RagBackends]


@dataclass
class RagWorkers:
    embedder: LocalEmbedder
    documents: LocalDocuments

    def runtime(self, wrap: Wrap | None = None, **runtime_kwargs: Any) -> Runtime:
        def factory(settings: Settings) -> RagBackends:
            store = build_store(settings)
            backends = RagBackends(
                self.embedder,
                self.documents,
                StoreRetriever(store),
                close=store.close,  # type: ignore[attr-defined]
            )
            return wrap(backends) if wrap else backends

        return Runtime(rag=factory, **runtime_kwargs)


def load_workers(**rag_overrides: Any) -> RagWorkers:
    settings = RagSettings(**rag_overrides)
    return RagWorkers(LocalEmbedder(settings), LocalDocuments(DocumentsWorker(settings)))


def rag_app_client(base: Path, workers: RagWorkers, **overrides: Any) -> Iterator[TestClient]:
    overrides.setdefault("rate_limits", {"enabled": False})
    with app_client(make_settings(base, **overrides), workers.runtime()) as client:
        yield client


def ingest(
    client: TestClient,
    headers: dict[str, str],
    filename: str,
    data: bytes,
    *,
    conversation_id: str | None = None,
    content_type: str = "application/octet-stream",
) -> Any:
    form = {"conversation_id": conversation_id} if conversation_id else None
    return client.post(
        "/api/rag/ingest",
        files={"file": (filename, data, content_type)},
        data=form,
        headers=headers,
    )


def search(client: TestClient, headers: dict[str, str], query: str, **params: Any) -> Any:
    r = client.get("/api/rag/search", params={"query": query, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["results"]
