"""GET /api/conversations?q=: title search, on SQLite and on PostgreSQL (a scripted engine:
the conversations' titles are what matters here, not the answers)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.api import assert_error, login_as
from tests.support.app import ClientFactory, engines_runtime
from tests.support.engines import ScriptedEngine


def _client(client_factory: ClientFactory, database_url: str) -> TestClient:
    runtime = engines_runtime({"gguf": ScriptedEngine(["Sure."])})
    return client_factory(runtime, database_url=database_url, rate_limits={"enabled": False})


def _chat(client: TestClient, headers: dict[str, str], message: str) -> str:
    r = client.post("/api/chat", json={"message": message, "max_tokens": 4}, headers=headers)
    assert r.status_code == 200, r.text
    return str(r.json()["conversation_id"])


def _titles(client: TestClient, headers: dict[str, str], **query: str | int) -> list[str]:
    r = client.get("/api/conversations", params=query, headers=headers)
    assert r.status_code == 200, r.text
    return [c["title"] for c in r.json()["conversations"]]


def test_search_by_title(client_factory: ClientFactory, database_url: str) -> None:
    client = _client(client_factory, database_url)
    alice = login_as(client, "alice@example.com")
    bob = login_as(client, "bob@example.com")
    for title in ["Paris trip", "Grocery list", "paris museums", "100% done", "snake_case"]:
        _chat(client, alice, title)
    _chat(client, bob, "Paris for Bob")

    # case-insensitive substring, newest first, only the caller's own
    assert _titles(client, alice, q="PARIS") == ["paris museums", "Paris trip"]
    assert _titles(client, bob, q="paris") == ["Paris for Bob"]
    assert _titles(client, alice, q="  trip ") == ["Paris trip"]  # trimmed
    # LIKE wildcards in the query are literal characters
    assert _titles(client, alice, q="%") == ["100% done"]
    assert _titles(client, alice, q="_") == ["snake_case"]
    assert _titles(client, alice, q="e_c") == ["snake_case"]
    assert _titles(client, alice, q="\\") == []
    assert _titles(client, alice, q="nothing like it") == []
    # empty or blank: no filter
    assert len(_titles(client, alice, q="")) == 5
    assert len(_titles(client, alice, q="   ")) == 5


def test_search_pages_the_filtered_list(client_factory: ClientFactory, database_url: str) -> None:
    client = _client(client_factory, database_url)
    h = login_as(client, "pages@example.com")
    for i in range(3):
        _chat(client, h, f"topic {i}")
    _chat(client, h, "unrelated")
    r = client.get("/api/conversations", params={"q": "topic", "limit": 2}, headers=h)
    assert r.headers["X-Total-Count"] == "3" and r.headers["X-Total-Pages"] == "2"
    assert r.headers["X-Current-Page"] == "1" and r.headers["X-Per-Page"] == "2"
    assert [c["title"] for c in r.json()["conversations"]] == ["topic 2", "topic 1"]
    assert _titles(client, h, q="topic", limit=2, page=2) == ["topic 0"]


def test_search_query_is_bounded(client_factory: ClientFactory, database_url: str) -> None:
    client = _client(client_factory, database_url)
    h = login_as(client, "long@example.com")
    assert _titles(client, h, q="x" * 200) == []
    r = client.get("/api/conversations", params={"q": "x" * 201}, headers=h)
    assert_error(r, 400, "VALIDATION_ERROR")
    assert_error(client.get("/api/conversations", params={"q": "a"}), 401, "AUTH_REQUIRED")
