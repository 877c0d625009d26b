# ruff: noqa: RUF001 - non-Latin scripts are the point of some tests here
"""/api/rag over HTTP with the real model, docling, OCR and Milvus Lite."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lmwebui.chat.conversations import Turn
from tests.documents import samples as S
from tests.support.api import assert_error, login_as
from tests.support.app import ClientFactory
from tests.support.rag import RagWorkers, ingest, search


def docs_of(results: list[dict[str, Any]]) -> set[str]:
    return {r["document_id"] for r in results}


def test_each_kind_is_ingested_and_cited_by_page(rag_client: TestClient) -> None:
    h = login_as(rag_client, "kinds@example.com")
    files = {
        "report.pdf": (
            S.text_pdf([["Annual report", "Intro text."], ["Pelican migration peaked in May."]]),
            "pelican",
            2,
        ),
        "manual.docx": (
            S.docx([("Setup", ["The flux capacitor needs 1.21 gigawatts."])]),
            "gigawatts",
            None,
        ),
        "deck.pptx": (S.pptx([("Plan", "Intro"), ("Risks", "Volcanic ash delays")]), "volcanic", 2),
        "page.html": (
            b"<html><body><h1>FAQ</h1><p>Tapioca is made from cassava.</p></body></html>",
            "cassava",
            None,
        ),
        "notes.md": (b"# Notes\n\n## Recipes\n\nSourdough needs a starter.\n", "sourdough", None),
        "plain.txt": (b"The lighthouse keeper counted 4412 ships.", "lighthouse", None),
        "photo.png": (S.image_bytes(S.text_image(["Quokka sightings on Rottnest"])), "quokka", 1),
    }
    ids = {}
    for name, (data, _term, _page) in files.items():
        r = ingest(rag_client, h, name, data)
        assert r.status_code == 201, (name, r.text)
        body = r.json()
        assert body["filename"] == name and body["chunks_created"] >= 1
        assert body["message"] == "Document ingested successfully"
        assert body["document_id"].startswith("doc_")
        ids[name] = body["document_id"]
    for name, (_data, term, page) in files.items():
        results = search(rag_client, h, term, mode="bm25", limit=3)
        top = results[0]
        assert top["document_id"] == ids[name], (name, results)
        assert top["metadata"]["filename"] == name and top["metadata"]["page"] == page
        assert term in top["content"].lower() and top["chunk_id"].startswith(ids[name])
        assert isinstance(top["score"], float)
    listed = rag_client.get("/api/rag/documents", headers=h)
    assert listed.headers["X-Total-Count"] == str(len(files))
    assert {d["status"] for d in listed.json()["documents"]} == {"ready"}


def test_hybrid_finds_codes_and_paraphrases(rag_client: TestClient) -> None:
    h = login_as(rag_client, "hybrid@example.com")
    sections = [
        ("Billing", ["Invoices are sent on the first working day of each month."]),
        ("Security", ["Rotate the access badge code QX-7731 every ninety days."]),
        ("Travel", ["Employees may book economy flights for trips under six hours."]),
        ("Leave", ["Staff receive twenty-five days of paid vacation per year."]),
    ]
    assert ingest(rag_client, h, "policy.docx", S.docx(sections)).status_code == 201
    exact = search(rag_client, h, "QX-7731")
    assert "QX-7731" in exact[0]["content"]
    para = search(rag_client, h, "how much holiday time do workers get annually")
    assert "vacation" in para[0]["content"]
    dense = search(rag_client, h, "airplane tickets for short journeys", mode="dense")
    assert "flights" in dense[0]["content"]
    assert search(rag_client, h, "!!!", mode="bm25") == []


def test_documents_are_private(rag_client: TestClient) -> None:
    a = login_as(rag_client, "owner@example.com")
    b = login_as(rag_client, "intruder@example.com")
    r = ingest(rag_client, a, "secret.txt", b"The vault combination is 31-41-59.")
    doc_id = r.json()["document_id"]
    assert search(rag_client, b, "vault combination") == []
    assert search(rag_client, b, "31-41-59", mode="bm25") == []
    assert_error(rag_client.get(f"/api/rag/documents/{doc_id}", headers=b), 404, "NOT_FOUND")
    assert_error(rag_client.delete(f"/api/rag/documents/{doc_id}", headers=b), 404, "NOT_FOUND")
    assert rag_client.get("/api/rag/documents", headers=b).json()["documents"] == []
    # still there for its owner, then gone with its chunks
    assert docs_of(search(rag_client, a, "vault combination")) == {doc_id}
    assert rag_client.get(f"/api/rag/documents/{doc_id}", headers=a).json()["chunks"] == 1
    r = rag_client.delete(f"/api/rag/documents/{doc_id}", headers=a)
    assert r.json() == {"status": "success", "message": "Document deleted"}
    assert search(rag_client, a, "vault combination") == []
    assert_error(rag_client.delete(f"/api/rag/documents/{doc_id}", headers=a), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("tool.pdf", b"MZ\x90\x00" + bytes(range(256)) * 8, 415, "UNSUPPORTED_MEDIA_TYPE"),
        (
            "old.doc",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        ("empty.txt", b"", 400, "VALIDATION_ERROR"),
        ("blank.md", b"\n\n   \n", 400, "VALIDATION_ERROR"),
        ("broken.pdf", b"%PDF-1.5\n1 0 obj << >>\ntruncated", 400, "VALIDATION_ERROR"),
        ("locked.pdf", S.text_pdf([["top secret"]], encrypt=True), 400, "VALIDATION_ERROR"),
        ("bomb.docx", S.docx_bomb(300), 413, "PAYLOAD_TOO_LARGE"),
        ("huge.png", S.png_bomb(20000), 413, "PAYLOAD_TOO_LARGE"),
        ("blank.png", S.image_bytes(S.text_image([""])), 400, "VALIDATION_ERROR"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_stored(
    rag_client: TestClient, name: str, data: bytes, status: int, code: str
) -> None:
    h = login_as(rag_client, "bad@example.com")
    body = assert_error(ingest(rag_client, h, name, data), status, code)
    if name == "locked.pdf":
        assert "encrypted" in body["detail"]
    assert rag_client.get("/api/rag/documents", headers=h).json()["documents"] == []


def test_non_latin_documents(rag_client: TestClient) -> None:
    h = login_as(rag_client, "scripts@example.com")
    texts = {
        "ja.txt": "東京タワーは一九五八年に完成しました。高さは三百三十三メートルです。",
        "ru.txt": "Байкал — самое глубокое озеро на Земле.",
        "el.md": "# Ιστορία\n\nΗ Ακρόπολη βρίσκεται στην Αθήνα.",
    }
    ids = {n: ingest(rag_client, h, n, t.encode()).json()["document_id"] for n, t in texts.items()}
    assert docs_of(search(rag_client, h, "東京タワー", limit=1)) == {ids["ja.txt"]}
    assert docs_of(search(rag_client, h, "完成", mode="bm25")) == {ids["ja.txt"]}
    assert docs_of(search(rag_client, h, "Байкал", limit=1)) == {ids["ru.txt"]}
    assert docs_of(search(rag_client, h, "Ακρόπολη", mode="bm25")) == {ids["el.md"]}


def test_conversation_scope(rag_client: TestClient) -> None:
    h = login_as(rag_client, "conv@example.com")
    other = login_as(rag_client, "conv-other@example.com")
    services = rag_client.app.state.services  # type: ignore[attr-defined]
    me = rag_client.get("/api/auth/me", headers=h).json()["id"]
    conv, _ = rag_client.portal.call(  # type: ignore[union-attr]
        services.chat.store.record_turn,
        me,
        None,
        Turn("hi", "hello", "m", "gguf", 1, 1),
        "conv_scope1",
    )
    in_conv = ingest(rag_client, h, "a.txt", b"Zebra stripes are unique.", conversation_id=conv)
    assert in_conv.status_code == 201 and in_conv.json()["conversation_id"] == conv
    general = ingest(rag_client, h, "b.txt", b"Zebra crossings help pedestrians.").json()
    scoped = search(rag_client, h, "zebra", conversation_id=conv)
    assert docs_of(scoped) == {in_conv.json()["document_id"]}
    assert len(search(rag_client, h, "zebra")) == 2
    listed = rag_client.get("/api/rag/documents", params={"conversation_id": conv}, headers=h)
    assert [d["document_id"] for d in listed.json()["documents"]] == [in_conv.json()["document_id"]]
    assert general["conversation_id"] is None
    # someone else's conversation: 404, nothing stored
    assert_error(
        ingest(rag_client, other, "c.txt", b"x y z", conversation_id=conv), 404, "NOT_FOUND"
    )
    r = rag_client.get(
        "/api/rag/search", params={"query": "zebra", "conversation_id": conv}, headers=other
    )
    assert_error(r, 404, "NOT_FOUND")


def test_search_validation_and_auth(rag_client: TestClient) -> None:
    h = login_as(rag_client, "val@example.com")
    assert_error(
        rag_client.get("/api/rag/search", params={"query": ""}, headers=h), 400, "VALIDATION_ERROR"
    )
    r = rag_client.get("/api/rag/search", params={"query": "x", "limit": 500}, headers=h)
    assert_error(r, 400, "VALIDATION_ERROR")
    r = rag_client.get("/api/rag/search", params={"query": "x", "mode": "magic"}, headers=h)
    assert_error(r, 400, "VALIDATION_ERROR")
    assert search(rag_client, h, "nothing ingested yet") == []
    assert_error(rag_client.get("/api/rag/search", params={"query": "x"}), 401, "AUTH_REQUIRED")
    r = rag_client.post("/api/rag/ingest", files={"file": ("a.txt", b"hello")})
    assert_error(r, 401, "AUTH_REQUIRED")
    # not multipart/form-data: 415 like every upload route (tests/api/routers/test_uploads.py)
    r = rag_client.post("/api/rag/ingest", headers=h, data={"x": "1"})
    assert_error(r, 415, "UNSUPPORTED_MEDIA_TYPE")
    r = rag_client.post("/api/rag/ingest", headers=h, json={"file": "x"})
    assert_error(r, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_concurrent_ingests(rag_client: TestClient) -> None:
    users = [login_as(rag_client, f"conc{i}@example.com") for i in range(2)]
    words = ["aardvark", "bison", "caracal", "dingo", "emu", "fossa"]

    def one(i: int) -> Any:
        text = f"The {words[i]} is document number {i}. " * 30
        return ingest(rag_client, users[i % 2], f"{words[i]}.txt", text.encode())

    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(one, range(6)))
    assert [r.status_code for r in responses] == [201] * 6
    for i, word in enumerate(words):
        hits = search(rag_client, users[i % 2], word, mode="bm25")
        assert docs_of(hits) == {responses[i].json()["document_id"]}
        assert search(rag_client, users[(i + 1) % 2], word, mode="bm25") == []
    totals = [
        rag_client.get("/api/rag/documents", headers=u).headers["X-Total-Count"] for u in users
    ]
    assert totals == ["3", "3"]


def test_account_deletion_removes_chunks(rag_client: TestClient) -> None:
    login_as(rag_client, "stayer@example.com")  # if first, the admin: the leaver is not
    h = login_as(rag_client, "leaver@example.com")
    me = rag_client.get("/api/auth/me", headers=h).json()["id"]
    ingest(rag_client, h, "mine.txt", b"Marmalade is made from Seville oranges.")
    store = rag_client.app.state.services.rag.backends.retriever  # type: ignore[attr-defined]
    assert rag_client.portal.call(store.count, me) == 1  # type: ignore[union-attr]
    assert rag_client.delete("/api/auth/me", headers=h).status_code == 200
    assert rag_client.portal.call(store.count, me) == 0  # type: ignore[union-attr]


# -- faults and limits: apps of their own ------------------------------------------------


class FailingEmbedder:
    def __init__(self, inner: Any, fail_on: int) -> None:
        self.inner, self.fail_on, self.calls = inner, fail_on, 0

    async def embed(self, texts: list[str]) -> Any:
        self.calls += 1
        if self.calls == self.fail_on:
            raise RuntimeError("embedding worker crashed")
        return await self.inner.embed(texts)

    async def info(self) -> Any:
        return await self.inner.info()


class WriteThenFail:
    """Writes the chunks, then fails (a timeout after the store took the write)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def insert(self, records: list[Any]) -> int:
        await self.inner.insert(records)
        raise ConnectionError("lost the store connection after writing")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class PausingRetriever:
    """Holds the ingest after the chunks are written, until the test lets it go."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.armed = False
        self.written = threading.Event()
        self.release = threading.Event()

    async def insert(self, records: list[Any]) -> int:
        import asyncio

        n = await self.inner.insert(records)
        if self.armed:
            self.written.set()
            await asyncio.to_thread(self.release.wait, 60)
        return int(n)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def long_text(term: str) -> bytes:
    return " ".join(f"Paragraph {i} about {term} and other matters." for i in range(300)).encode()


def test_failure_in_the_middle_of_ingest_leaves_nothing(
    client_factory: ClientFactory, rag_workers: RagWorkers
) -> None:
    holder: dict[str, Any] = {}

    def wrap(b: Any) -> Any:
        holder["store"] = b.retriever
        b.embedder = FailingEmbedder(b.embedder, fail_on=3)
        return b

    c = client_factory(runtime=rag_workers.runtime(wrap), rag={"embedding_batch_size": 4})
    h = login_as(c, "fail@example.com")
    body = assert_error(ingest(c, h, "long.txt", long_text("narwhal")), 503, "SERVICE_UNAVAILABLE")
    assert "nothing was stored" in body["detail"]
    assert c.get("/api/rag/documents", headers=h).json()["documents"] == []
    assert search(c, h, "narwhal", mode="bm25") == []
    assert c.portal.call(holder["store"].count, 1) == 0  # type: ignore[union-attr]


def test_failure_after_the_store_write_is_rolled_back(
    client_factory: ClientFactory, rag_workers: RagWorkers
) -> None:
    holder: dict[str, Any] = {}

    def wrap(b: Any) -> Any:
        holder["store"] = b.retriever
        b.retriever = WriteThenFail(b.retriever)
        return b

    c = client_factory(runtime=rag_workers.runtime(wrap))
    h = login_as(c, "rollback@example.com")
    assert_error(ingest(c, h, "x.txt", b"Okapi facts."), 503, "SERVICE_UNAVAILABLE")
    assert c.portal.call(holder["store"].count, 1) == 0  # type: ignore[union-attr]
    assert c.get("/api/rag/documents", headers=h).json()["documents"] == []


def test_a_pending_document_is_never_searchable(
    client_factory: ClientFactory, rag_workers: RagWorkers
) -> None:
    pausing: dict[str, PausingRetriever] = {}

    def wrap(b: Any) -> Any:
        pausing["r"] = PausingRetriever(b.retriever)
        b.retriever = pausing["r"]
        return b

    c = client_factory(runtime=rag_workers.runtime(wrap))
    h = login_as(c, "pending@example.com")
    assert ingest(c, h, "old.txt", b"Capybara notes, first edition.").status_code == 201
    pausing["r"].armed = True
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(ingest, c, h, "new.txt", b"Capybara notes, second edition.")
        assert pausing["r"].written.wait(60)
        # the chunks are in the store, the row is still pending: invisible
        assert len(search(c, h, "capybara", mode="bm25")) == 1
        assert c.get("/api/rag/documents", headers=h).headers["X-Total-Count"] == "2"
        pausing["r"].release.set()
        assert future.result().status_code == 201
    assert len(search(c, h, "capybara", mode="bm25")) == 2


def test_size_limit_413_and_nothing_on_disk(
    client_factory: ClientFactory, rag_workers: RagWorkers
) -> None:
    c = client_factory(runtime=rag_workers.runtime(), rag={"max_upload_bytes": 10_000})
    h = login_as(c, "big@example.com")
    big = b"word " * 10_000
    assert_error(ingest(c, h, "big.txt", big), 413, "PAYLOAD_TOO_LARGE")

    def chunks() -> Any:  # no Content-Length: the streaming parser must stop it
        boundary = "XyZ"
        disposition = 'Content-Disposition: form-data; name="file"; filename="s.txt"'
        yield f"--{boundary}\r\n{disposition}\r\n\r\n".encode()
        for _ in range(100):
            yield b"word " * 1000
        yield f"\r\n--{boundary}--\r\n".encode()

    r = c.post(
        "/api/rag/ingest",
        content=chunks(),
        headers={**h, "Content-Type": "multipart/form-data; boundary=XyZ"},
    )
    assert_error(r, 413, "PAYLOAD_TOO_LARGE")
    settings = c.app.state.services.settings  # type: ignore[attr-defined]
    assert list((settings.data_dir / "uploads").glob("*")) == []
    assert c.get("/api/rag/documents", headers=h).json()["documents"] == []
    assert ingest(c, h, "small.txt", b"small enough").status_code == 201


def test_upload_rate_limit(client_factory: ClientFactory, rag_workers: RagWorkers) -> None:
    c = client_factory(runtime=rag_workers.runtime())
    h = login_as(c, "limit@example.com")
    codes = [ingest(c, h, f"{i}.txt", f"note {i}".encode()).status_code for i in range(6)]
    assert codes == [201] * 5 + [429]


def test_rag_off_is_503(client_factory: ClientFactory) -> None:
    c = client_factory(rate_limits={"enabled": False})
    h = login_as(c, "off@example.com")
    assert_error(
        c.get("/api/rag/search", params={"query": "x"}, headers=h), 503, "SERVICE_UNAVAILABLE"
    )
