"""use_rag in chat (REST and WebSocket) with the real GGUF model and the real RAG stack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.api import login_as
from tests.support.app import app_client, make_settings
from tests.support.chat_app import gguf_engines
from tests.support.models import models_dir_with_bundled
from tests.support.rag import RagWorkers, ingest

POLICY = b"Badge XK-4471 opens the server room on floor 3. Visitors must sign in at reception."


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, rag_workers: RagWorkers
) -> Iterator[TestClient]:
    base = tmp_path_factory.mktemp("ragchat")
    settings = make_settings(
        base,
        models_dir=models_dir_with_bundled(base / "models"),
        rate_limits={"enabled": False},
        chat={"n_slots": 2, "n_ctx_per_slot": 2048},
    )
    with app_client(settings, rag_workers.runtime(chat_engines=gguf_engines)) as c:
        yield c


def chat(client: TestClient, h: dict[str, str], **body: Any) -> dict[str, Any]:
    body = {"message": "What does badge XK-4471 open?", "temperature": 0, "max_tokens": 8, **body}
    r = client.post("/api/chat", json=body, headers=h)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def test_rest_answer_cites_the_users_document(client: TestClient) -> None:
    h = login_as(client, "rag-rest@example.com")
    doc = ingest(client, h, "policy.pdf", _pdf()).json()
    plain = chat(client, h)
    assert "citations" not in plain
    grounded = chat(client, h, use_rag=True)
    cites = grounded["citations"]
    assert cites and cites[0]["document_id"] == doc["document_id"]
    assert cites[0]["filename"] == "policy.pdf" and cites[0]["page"] == 2
    assert cites[0]["chunk_id"].startswith(doc["document_id"]) and cites[0]["score"] > 0
    assert cites[0]["index"] == 1
    # the excerpts went into the prompt (they cost prompt tokens); the stored turn does not
    # keep them: the history holds the user's own words
    assert grounded["usage"]["prompt_tokens"] > plain["usage"]["prompt_tokens"] + 20
    conv = client.get(f"/api/conversations/{grounded['conversation_id']}", headers=h).json()
    assert conv["conversation"]["messages"][0]["content"] == "What does badge XK-4471 open?"


def test_no_documents_means_no_citations(client: TestClient) -> None:
    h = login_as(client, "rag-empty@example.com")
    plain = chat(client, h)
    grounded = chat(client, h, use_rag=True)
    assert grounded["citations"] == []
    assert grounded["usage"]["prompt_tokens"] == plain["usage"]["prompt_tokens"]


def test_websocket_final_answer_carries_citations(client: TestClient) -> None:
    h = login_as(client, "rag-ws@example.com")
    doc = ingest(client, h, "policy.txt", POLICY).json()
    with client.websocket_connect("/ws/chat", headers=h) as ws:
        ws.send_text(
            json.dumps(
                {
                    "action": "start_stream",
                    "data": {"message": "Who must sign in?", "use_rag": True, "max_tokens": 8},
                }
            )
        )
        while (event := ws.receive_json())["type"] not in ("final_answer", "error"):
            pass
    assert event["type"] == "final_answer", event
    assert [c["document_id"] for c in event["citations"]] == [doc["document_id"]]
    assert event["data"]["citations"] == event["citations"]
    # what the page shows under the source: the start of the excerpt's text
    snippet = event["citations"][0]["snippet"]
    assert "Badge XK-4471 opens the server room" in snippet


def test_conversation_documents_take_precedence(client: TestClient) -> None:
    h = login_as(client, "rag-conv@example.com")
    general = ingest(client, h, "general.txt", b"Badge XK-4471 is the general staff badge.").json()
    first = chat(client, h, message="hello")
    conv = first["conversation_id"]
    scoped = ingest(client, h, "conv.txt", POLICY, conversation_id=conv).json()
    answer = chat(client, h, conversation_id=conv, use_rag=True)
    assert {c["document_id"] for c in answer["citations"]} == {scoped["document_id"]}
    other = chat(client, h, use_rag=True)  # a new conversation: all of the user's documents
    assert {c["document_id"] for c in other["citations"]} == {
        general["document_id"],
        scoped["document_id"],
    }


def _pdf() -> bytes:
    from tests.documents import samples as S

    return S.text_pdf([["Facilities handbook", "Chapter one covers parking."], [POLICY.decode()]])
