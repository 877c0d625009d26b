"""MilvusStore on a real Milvus Lite file: filters, modes, deletes, persistence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from lmwebui.rag.store import MilvusStore, filter_expr
from lmwebui.rag.types import ChunkRecord, StoreQuery

DIM = 8


def vec(i: int) -> list[float]:
    v = np.zeros(DIM, dtype=np.float32)
    v[i % DIM] = 1.0
    v[(i + 1) % DIM] = 0.2
    return (v / np.linalg.norm(v)).tolist()


def record(user: int, doc: str, i: int, text: str, conv: str | None = None) -> ChunkRecord:
    return ChunkRecord(
        chunk_id=f"{doc}_c{i}",
        user_id=user,
        document_id=doc,
        conversation_id=conv,
        filename=f"{doc}.txt",
        page=i + 1,
        chunk_index=i,
        heading="",
        text=text,
        tokens=len(text.split()),
        vector=vec(i),
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MilvusStore]:
    s = MilvusStore(str(tmp_path / "m.db"), collection="t_chunks", candidates=10)
    yield s
    s.close()


def q(
    user: int, mode: str = "hybrid", text: str | None = None, i: int = 0, **kw: object
) -> StoreQuery:
    return StoreQuery(user_id=user, limit=5, mode=mode, text=text, vector=vec(i), **kw)  # type: ignore[arg-type]


def test_search_is_scoped_to_the_user(store: MilvusStore) -> None:
    store.insert([record(1, "docA", 0, "alpha secret XK-4471"), record(1, "docA", 1, "beta")])
    store.insert([record(2, "docB", 0, "alpha secret XK-4471")])
    for mode in ("hybrid", "dense", "bm25"):
        hits = store.search(q(1, mode, "XK-4471"))
        assert hits and {h.document_id for h in hits} == {"docA"}, mode
        hits = store.search(q(2, mode, "XK-4471"))
        assert {h.document_id for h in hits} == {"docB"}, mode
    assert store.search(q(3, "hybrid", "alpha")) == []
    assert store.count(1) == 2 and store.count(2) == 1 and store.count(1, "docA") == 2


def test_modes_rank_by_their_signal(store: MilvusStore) -> None:
    store.insert([record(1, "d", i, f"chunk {i} word{i}") for i in range(6)])
    dense = store.search(q(1, "dense", None, i=3))
    assert dense[0].chunk_id == "d_c3" and dense[0].score > 0.9
    bm25 = store.search(q(1, "bm25", "word5", i=0))
    assert bm25[0].chunk_id == "d_c5" and bm25[0].score > 0
    hybrid = store.search(q(1, "hybrid", "word5", i=5))
    assert hybrid[0].chunk_id == "d_c5"
    hit = hybrid[0]
    assert (hit.filename, hit.page, hit.chunk_index) == ("d.txt", 6, 5)


def test_exclusions_conversation_scope_and_deletes(store: MilvusStore) -> None:
    store.insert([record(1, "d1", 0, "shared term", conv="conv_a")])
    store.insert([record(1, "d2", 0, "shared term")])
    ids = lambda hits: {h.document_id for h in hits}  # noqa: E731
    assert ids(store.search(q(1, "bm25", "shared"))) == {"d1", "d2"}
    assert ids(store.search(q(1, "bm25", "shared", exclude_documents=("d1",)))) == {"d2"}
    assert ids(store.search(q(1, "bm25", "shared", conversation_id="conv_a"))) == {"d1"}
    assert store.delete_document(2, "d1") == 0  # someone else's id: nothing happens
    assert store.count(1) == 2
    store.delete_document(1, "d1")
    assert ids(store.search(q(1, "bm25", "shared"))) == {"d2"}
    store.insert([record(2, "x", 0, "shared")])
    store.delete_user(1)
    assert store.count(1) == 0 and store.count(2) == 1


def test_cjk_terms_match_inside_runs(store: MilvusStore) -> None:
    from lmwebui.rag.lexical import lexical_text

    store.insert(
        [record(1, "ja", 0, "東京タワーは高いです"), record(1, "zh", 1, "北京大学的图书馆")]
    )
    assert store.search(q(1, "bm25", lexical_text("東京")))[0].document_id == "ja"
    assert store.search(q(1, "bm25", lexical_text("图书馆")))[0].document_id == "zh"


def test_persistence_and_dimension_guard(tmp_path: Path) -> None:
    path = str(tmp_path / "p.db")
    s = MilvusStore(path, collection="p")
    assert s.search(q(1, "dense")) == []  # no collection yet
    s.insert([record(1, "d", 0, "kept across restarts")])
    s.close()
    s = MilvusStore(path, collection="p")
    try:
        assert s.dim == DIM and s.count(1) == 1
        assert s.search(q(1, "bm25", "restarts"))[0].document_id == "d"
        bad = ChunkRecord("z_c0", 1, "z", None, "z", None, 0, "", "t", 1, [0.1] * (DIM + 1))
        with pytest.raises(ValueError, match="dim"):
            s.insert([bad])
    finally:
        s.close()


def test_filter_expressions_only_take_safe_ids() -> None:
    assert filter_expr(7) == "user_id == 7"
    assert 'document_id not in ["a", "b"]' in filter_expr(7, exclude=["a", "b"])
    for evil in ('x" or user_id >= 0 or "', "a b", ""):
        with pytest.raises(ValueError):
            filter_expr(7, document_id=evil)
