"""The chat view with the bundled GGUF model over /ws/chat, in a real browser against
`lmwebui serve`: streaming, usage, the conversation in the URL, reload, stop, the keys."""

from __future__ import annotations

import re

from playwright.sync_api import Page, WebSocketRoute, expect

from tests.support.web import screenshot, sign_in
from tests.web.chat_page import (
    last_answer,
    message_box,
    pick_bundled_model,
    send,
    set_max_tokens,
    wait_done,
)

# Records the streaming message's text length on every change, in the page.
WATCH_STREAM = """() => {
  window.__lengths = [];
  new MutationObserver(() => {
    const body = document.querySelector('.msg-assistant[data-state=streaming] .msg-body');
    if (body) window.__lengths.push(body.textContent.length);
  }).observe(document.querySelector('.chat-log'),
    {subtree: true, childList: true, characterData: true});
}"""
LONG_PROMPT = "Count from 1 to 400, one number per line, with no other text."


def test_streamed_answer_usage_and_reload(page: Page, base_url: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, base_url, "chat-stream@example.com")
    pick_bundled_model(page)
    set_max_tokens(page, 40)
    page.evaluate(WATCH_STREAM)
    send(page, "Write a short poem about the sea.")
    expect(page.locator("article.msg-user")).to_have_text(re.compile("short poem about the sea"))
    answer = wait_done(page)
    # the text grew in the page while the answer streamed, before the final answer
    lengths: list[int] = page.evaluate("window.__lengths")
    assert len({n for n in lengths if n > 0}) >= 2, lengths
    expect(answer.locator(".msg-usage")).to_contain_text(re.compile(r"\d+ tokens · \d+ total"))
    expect(answer.locator(".msg-usage")).to_contain_text(re.compile(r"\d+\.\d\d s"))
    expect(page).to_have_url(re.compile(r"\?c=conv_[0-9a-f]+"))
    first_words = answer.locator(".msg-body").inner_text().split()[:3]
    screenshot(page, "chat-light")

    page.reload()
    expect(page.locator("article.msg-user")).to_have_text(re.compile("short poem about the sea"))
    stored = last_answer(page).locator(".msg-body")
    expect(stored).to_contain_text(" ".join(first_words))
    expect(last_answer(page).get_by_role("button", name="Regenerate answer")).to_be_visible()
    assert errors == []


def test_stop_button_and_esc_stop_the_answer(page: Page, base_url: str) -> None:
    sign_in(page, base_url, "chat-stop@example.com")
    pick_bundled_model(page)
    send(page, LONG_PROMPT)
    first = page.locator("article.msg-assistant").nth(0)
    expect(first.locator(".msg-body")).to_contain_text(re.compile(r"\S"), timeout=120_000)
    page.get_by_role("button", name="Stop").click()
    expect(first).to_have_attribute("data-state", "stopped", timeout=30_000)
    expect(first.get_by_role("status")).to_have_text("Stopped")
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    stopped_text = first.locator(".msg-body").inner_text()
    # the page can send again, and Esc stops too
    send(page, LONG_PROMPT)
    second = page.locator("article.msg-assistant").nth(1)
    expect(second.locator(".msg-body")).to_contain_text(re.compile(r"\S"), timeout=120_000)
    message_box(page).press("Escape")
    expect(second).to_have_attribute("data-state", "stopped", timeout=30_000)
    # the stopped answer kept its text: nothing more arrived after the stop
    assert first.locator(".msg-body").inner_text() == stopped_text


def test_enter_sends_shift_enter_is_a_newline(page: Page, base_url: str) -> None:
    sign_in(page, base_url, "chat-keys@example.com")
    pick_bundled_model(page)
    set_max_tokens(page, 8)
    box = message_box(page)
    box.click()
    box.press_sequentially("line one")
    box.press("Shift+Enter")
    box.press_sequentially("line two")
    expect(box).to_have_value("line one\nline two")
    # an input method composing: Enter confirms the composition, it does not send
    box.evaluate(
        """el => el.dispatchEvent(new KeyboardEvent('keydown',
        {key: 'Enter', keyCode: 229, isComposing: true, bubbles: true, cancelable: true}))"""
    )
    expect(page.locator("article.msg-user")).to_have_count(0)
    box.press("Enter")
    expect(page.locator("article.msg-user .msg-text")).to_have_text("line one\nline two")
    expect(box).to_have_value("")
    wait_done(page)


def test_dropped_socket_reconnects_and_marks_the_turn(page: Page, base_url: str) -> None:
    sockets: list[WebSocketRoute] = []

    def through(ws: WebSocketRoute) -> None:
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(r"/ws/chat$"), through)
    sign_in(page, base_url, "chat-drop@example.com")
    pick_bundled_model(page)
    send(page, LONG_PROMPT)
    answer = last_answer(page)
    expect(answer.locator(".msg-body")).to_contain_text(re.compile(r"\S"), timeout=120_000)
    sockets[-1].close(code=1012, reason="test drop")
    expect(answer).to_have_attribute("data-state", "interrupted")
    expect(answer.get_by_role("status")).to_contain_text("Interrupted")
    expect(page.locator(".chat-conn")).to_have_text("Reconnected", timeout=30_000)
    assert len(sockets) >= 2
    # the new socket works: a short answer streams to the end
    set_max_tokens(page, 8)
    send(page, "Say hello.")
    wait_done(page)
