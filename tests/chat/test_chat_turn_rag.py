"""use_rag in a chat turn with the scripted engine and model-free RAG workers
(tests/support/fake_rag.py): which excerpts reach the prompt, within which budget, with which
citations. Retrieval quality with the real embedding model is tests/chat/test_rag_chat.py."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.api import login_as
from tests.support.app import ClientFactory
from tests.support.engines import ScriptedEngine
from tests.support.fake_rag import fake_rag_runtime
from tests.support.rag import ingest

QUESTION = "Which badge opens the server room?"
FILLER = "The doors log every entry and exit for the security team on duty. " * 5
PARAGRAPHS = [f"Badge XK-44{i:02d} opens the server room on floor {i}. {FILLER}" for i in range(6)]
DOCUMENT = "\n\n".join(PARAGRAPHS).encode()
CITATION_FIELDS = {"index", "document_id", "filename", "page", "score", "chunk_id", "snippet"}
WINDOW = 1000  # the engine's context (tokens of one sequence)


def estimate(text: str) -> int:
    """The platform's deliberately high token estimate (about 3 characters a token)."""
    return len(text) // 3 + 1


@pytest.fixture
def rag_chat(client_factory: ClientFactory) -> tuple[TestClient, ScriptedEngine]:
    engine = ScriptedEngine(["The badge for floor 3."], context_tokens=WINDOW)
    client = client_factory(fake_rag_runtime({"gguf": engine}), rate_limits={"enabled": False})
    return client, engine


def chat(client: TestClient, h: dict[str, str], **body: Any) -> dict[str, Any]:
    r = client.post("/api/chat", json={"message": QUESTION, **body}, headers=h)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def test_excerpts_and_citations(rag_chat: tuple[TestClient, ScriptedEngine]) -> None:
    client, engine = rag_chat
    h = login_as(client, "rag@example.com")
    r = ingest(client, h, "badges.txt", DOCUMENT, content_type="text/plain")
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["chunks_created"] == len(PARAGRAPHS)

    plain = chat(client, h, max_tokens=64)
    assert "citations" not in plain
    assert engine.calls[-1].last_user_message == QUESTION

    grounded = chat(client, h, max_tokens=64, use_rag=True)
    prompt = engine.calls[-1].last_user_message
    cites = grounded["citations"]
    assert cites, grounded
    assert [c["index"] for c in cites] == list(range(1, len(cites) + 1))
    texts = {
        hit["chunk_id"]: hit["content"]
        for hit in client.get(
            "/api/rag/search", params={"query": QUESTION, "limit": 10}, headers=h
        ).json()["results"]
    }
    for c in cites:
        assert set(c) == CITATION_FIELDS
        assert c["document_id"] == doc["document_id"] and c["filename"] == "badges.txt"
        assert f"[{c['index']}]" in prompt and texts[c["chunk_id"]] in prompt
        # the snippet is the excerpt's start, on one line
        assert c["snippet"] and " ".join(texts[c["chunk_id"]].split()).startswith(
            c["snippet"].rstrip("…")
        )
    assert prompt.rstrip().endswith(QUESTION)
    # the conversation stores what the user wrote, not the excerpts
    conv = client.get(f"/api/conversations/{grounded['conversation_id']}", headers=h).json()
    assert conv["conversation"]["messages"][0]["content"] == QUESTION

    # another user's documents are never retrieved
    other = login_as(client, "other@example.com")
    assert chat(client, other, max_tokens=64, use_rag=True)["citations"] == []
    assert engine.calls[-1].last_user_message == QUESTION


def test_excerpts_fit_the_context_left_for_the_answer(
    rag_chat: tuple[TestClient, ScriptedEngine],
) -> None:
    client, engine = rag_chat
    h = login_as(client, "budget@example.com")
    assert ingest(client, h, "badges.txt", DOCUMENT).status_code == 201
    counts = {}
    for max_tokens in (100, 600, 950):
        body = chat(client, h, max_tokens=max_tokens, use_rag=True)
        prompt = engine.calls[-1].last_user_message
        counts[max_tokens] = len(body["citations"])
        assert estimate(prompt) + max_tokens <= WINDOW, (max_tokens, estimate(prompt))
    # a larger answer leaves room for fewer excerpts; none when the question barely fits
    assert counts[100] > counts[600] > 0 and counts[950] == 0, counts
    assert engine.calls[-1].last_user_message == QUESTION


def test_history_takes_its_share_of_the_context(
    rag_chat: tuple[TestClient, ScriptedEngine],
) -> None:
    client, engine = rag_chat
    h = login_as(client, "history@example.com")
    assert ingest(client, h, "badges.txt", DOCUMENT).status_code == 201
    alone = len(chat(client, h, max_tokens=100, use_rag=True)["citations"])
    long_turn = "Remember this: " + "the lift is out of order on floor two. " * 38
    cid = chat(client, h, message=long_turn, max_tokens=100)["conversation_id"]
    body = chat(client, h, conversation_id=cid, max_tokens=100, use_rag=True)
    messages = engine.calls[-1].request.messages
    assert [m.role for m in messages] == ["user", "assistant", "user"]
    assert 0 < len(body["citations"]) < alone
    assert sum(estimate(m.content) for m in messages) + 100 <= WINDOW
