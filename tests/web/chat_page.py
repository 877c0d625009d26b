"""Driving the chat view as a person does: its labelled model list, message box, buttons."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page, expect

from lmwebui.models.files import BUNDLED_MODEL
from tests.support.upstream import FakeUpstream

ANSWER_TIMEOUT = 180_000  # the bundled model on 2 shared cores, with other tests running


def message_box(page: Page) -> Locator:
    return page.get_by_label("Message", exact=True)


def last_answer(page: Page) -> Locator:
    return page.locator("article.msg-assistant").last


def pick_bundled_model(page: Page) -> None:
    picker = page.get_by_label("Model", exact=True)
    expect(
        picker.locator("option", has_text=BUNDLED_MODEL.removesuffix(".gguf"))
    ).not_to_have_count(0)
    value = picker.locator("option", has_text=BUNDLED_MODEL.removesuffix(".gguf")).first
    picker.select_option(value=value.get_attribute("value"))


def set_max_tokens(page: Page, n: int) -> None:
    page.get_by_text("Options", exact=True).click()
    page.get_by_label("Max answer tokens").fill(str(n))
    page.get_by_label("Max answer tokens").press("Tab")


def send(page: Page, text: str) -> None:
    box = message_box(page)
    box.fill(text)
    box.press("Enter")


def wait_done(page: Page, answer: Locator | None = None) -> Locator:
    answer = answer or last_answer(page)
    expect(answer).to_have_attribute("data-state", "done", timeout=ANSWER_TIMEOUT)
    return answer


def use_upstream(page: Page, base_url: str, upstream: FakeUpstream) -> None:
    """Arrange: the user's provider is the scripted upstream (Settings' API), and the chat
    view's model list points at it with a model name typed in."""
    res = page.request.put(
        base_url + "/api/providers/openai/key",
        data={"api_key": "sk-test-web-chat", "base_url": upstream.url},
        headers={"Origin": base_url},
    )
    assert res.ok, res.text()
    page.get_by_label("Model", exact=True).select_option(value="own:openai")
    page.get_by_label("Provider model name").fill("gpt-4o-mini")


def script(upstream: FakeUpstream, text: str, pieces: int = 8) -> None:
    """The upstream streams `text` in a few chunks."""
    size = max(1, len(text) // pieces)
    chunks: list[tuple[dict[str, Any], str | None]] = [
        ({"role": "assistant", "content": text[i : i + size]}, None)
        for i in range(0, len(text), size)
    ]
    upstream.script = [*chunks, ({}, "stop")]
