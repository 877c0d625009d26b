"""Arranging data for the browser tests quickly, through the API with the signed-in page's
own cookies (or another user's Bearer header): conversations are chats answered by the
scripted upstream provider, so no model time is spent on them."""

from __future__ import annotations

import httpx
from playwright.sync_api import APIRequestContext, Page

from tests.support.live import login
from tests.support.upstream import FakeUpstream

ARRANGE_KEY = "sk-arrange-key-0000"


def _chat_body(title: str) -> dict[str, object]:
    return {"message": title, "provider": "openai", "model": "gpt-4o-mini", "max_tokens": 4}


def _upstream_ready(upstream: FakeUpstream) -> None:
    # another test may have left the shared upstream failing or redirecting
    upstream.failure = None
    upstream.redirect_to = None
    upstream.chunk_delay = 0.0


def _as_page(request: APIRequestContext, base_url: str, upstream: FakeUpstream) -> None:
    r = request.put(
        f"{base_url}/api/providers/openai/key",
        data={"api_key": ARRANGE_KEY, "base_url": upstream.url},
    )
    assert r.ok, r.text()


def arrange_conversations(
    page: Page, base_url: str, upstream: FakeUpstream, titles: list[str]
) -> list[str]:
    """One conversation per title (the title is its first message), oldest first, owned by
    the user signed in on ``page``; returns their ids."""
    _upstream_ready(upstream)
    _as_page(page.request, base_url, upstream)
    ids = []
    for title in titles:
        r = page.request.post(f"{base_url}/api/chat", data=_chat_body(title))
        assert r.ok, r.text()
        ids.append(str(r.json()["conversation_id"]))
    return ids


def arrange_other_users_conversation(
    base_url: str, upstream: FakeUpstream, email: str, title: str
) -> str:
    """A conversation of another user (over HTTP with their Bearer token)."""
    _upstream_ready(upstream)
    headers = login(base_url, email)
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:
        key = {"api_key": ARRANGE_KEY, "base_url": upstream.url}
        http.put("/api/providers/openai/key", json=key).raise_for_status()
        r = http.post("/api/chat", json=_chat_body(title))
        assert r.status_code == 200, r.text
        return str(r.json()["conversation_id"])
