"""What the chat view renders from a model's answer, with a scripted upstream provider
(deterministic text): markdown, tables and highlighted code with copy buttons; XSS
payloads rendered inert; citations from the user's documents; phone width, dark theme."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import FilePayload, Page, expect

from tests.support.upstream import FakeUpstream
from tests.support.web import screenshot, sign_in
from tests.web.chat_page import last_answer, message_box, script, send, use_upstream, wait_done

MARKDOWN = """# Release notes

Some **bold** text, a [link](https://example.com/docs) and `inline code`.

| Feature | State |
|---|---|
| Streaming | done |

```python
def greet(name):
    return f"hello {name}"
```
"""
CODE = 'def greet(name):\n    return f"hello {name}"'


def payloads(upstream: FakeUpstream) -> str:
    far = f"http://127.0.0.1:{upstream.port}"
    return f"""Here you go <img src=x onerror="window.__pwned='img'"> done.

<script>window.__pwned = 'script'; document.title = 'pwned'</script>

[click me](javascript:window.__pwned='link')

<a href="javascript:window.__pwned='raw-link'">raw link</a>

<iframe src="javascript:window.__pwned='iframe'"></iframe>
<iframe srcdoc="<script>parent.__pwned='srcdoc'</script>"></iframe>

<svg onload="window.__pwned='svg'"><circle r="5"/></svg>

<details open ontoggle="window.__pwned='toggle'"><summary>s</summary>x</details>

<form action="{far}/form"><button formaction="{far}/form2">go</button></form>

<div style="position:fixed;inset:0;background:red">overlay</div>

![tracker]({far}/pwned-md.png) <img src="{far}/pwned-html.png">

<object data="{far}/pwned-object"></object><embed src="{far}/pwned-embed">

CANARY-END
"""


@pytest.fixture
def scripted(upstream: FakeUpstream) -> Iterator[FakeUpstream]:
    yield upstream
    upstream.script = None
    upstream.chunk_delay = 0.0
    upstream.failure = None


def assert_inert(page: Page, upstream: FakeUpstream) -> None:
    expect(page.locator(".chat-log")).to_contain_text("CANARY-END")
    assert page.evaluate("window.__pwned") is None
    assert page.title() != "pwned"
    log = page.locator(".chat-log")
    for tag in ("script", "iframe", "svg", "object", "embed", "form", "style", "[style]"):
        expect(log.locator(tag)).to_have_count(0)
    handlers = page.evaluate(
        """() => [...document.querySelectorAll('.chat-log *')]
        .flatMap(e => [...e.attributes].map(a => a.name)).filter(n => n.startsWith('on'))"""
    )
    assert handlers == []
    expect(log.locator("a[href^='javascript' i]")).to_have_count(0)
    # images from another origin are dropped (no request leaves the page)
    expect(log.locator(f"img[src*='127.0.0.1:{upstream.port}']")).to_have_count(0)
    log.get_by_text("click me").click()
    assert page.evaluate("window.__pwned") is None
    assert not [r for r in upstream.received if "pwned" in r.path or "form" in r.path]


def test_xss_payloads_in_an_answer_render_inert(
    page: Page, base_url: str, scripted: FakeUpstream
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, base_url, "chat-xss@example.com")
    use_upstream(page, base_url, scripted)
    script(scripted, payloads(scripted), pieces=12)
    send(page, "Show me something")
    wait_done(page)
    assert_inert(page, scripted)
    # the stored answer, rendered from the conversation after a reload, is inert too
    expect(page).to_have_url(re.compile(r"\?c=conv_"))
    page.reload()
    assert_inert(page, scripted)
    assert errors == []


def test_markdown_table_and_code_with_copy_buttons(
    page: Page, base_url: str, scripted: FakeUpstream
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, base_url, "chat-markdown@example.com")
    use_upstream(page, base_url, scripted)
    script(scripted, MARKDOWN)
    send(page, "Release notes please")
    answer = wait_done(page)
    expect(answer.get_by_role("heading", name="Release notes")).to_be_visible()
    expect(answer.locator("strong")).to_have_text("bold")
    expect(answer.get_by_role("cell", name="Streaming")).to_be_visible()
    link = answer.get_by_role("link", name="link")
    expect(link).to_have_attribute("href", "https://example.com/docs")
    expect(link).to_have_attribute("rel", re.compile("noopener"))
    code = answer.locator(".code-block")
    expect(code.locator(".hljs-keyword").first).to_have_text("def")
    copy = code.get_by_role("button", name="Copy code")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == CODE
    answer.get_by_role("button", name="Copy answer").click()
    assert page.evaluate("navigator.clipboard.readText()").strip() == MARKDOWN.strip()
    screenshot(page, "chat-markdown-light")
    page.emulate_media(color_scheme="dark")
    expect(page.locator("html[data-theme=dark]")).to_be_attached()
    screenshot(page, "chat-markdown-dark")
    # regenerate re-sends the last message in the same conversation
    url = page.url
    script(scripted, "A second answer.")
    answer.get_by_role("button", name="Regenerate answer").click()
    expect(last_answer(page).locator(".msg-body")).to_have_text("A second answer.")
    wait_done(page)
    expect(page.locator("article.msg-assistant")).to_have_count(1)
    assert page.url == url


def test_citation_after_uploading_a_document(
    page: Page, base_url: str, scripted: FakeUpstream
) -> None:
    sign_in(page, base_url, "chat-rag@example.com")
    use_upstream(page, base_url, scripted)
    expect(page.get_by_label("Use my documents")).not_to_be_checked()
    page.locator("#chat-attach-input").set_input_files(
        files=[
            FilePayload(
                name="badges.md",
                mimeType="text/markdown",
                buffer=b"# Badges\n\nBadge XK-4471 opens the server room on floor 3.\n",
            )
        ]
    )
    chip = page.locator(".attachment", has_text="badges.md")
    expect(chip).to_contain_text(re.compile(r"\d+ pages?, \d+ chunks?"), timeout=120_000)
    expect(page.get_by_label("Use my documents")).to_be_checked()
    script(scripted, "The badge XK-4471 opens it [1].")
    send(page, "Which badge opens the server room?")
    answer = wait_done(page)
    sources = answer.get_by_role("region", name="Sources")
    expect(sources).to_contain_text("badges.md")
    expect(sources.locator(".source-snippet")).to_contain_text("XK-4471 opens the server room")
    # the excerpt reached the provider's prompt
    assert "XK-4471" in scripted.received[-1].body


def test_phone_width_and_an_upload_error(page: Page, base_url: str, scripted: FakeUpstream) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, base_url, "chat-phone@example.com")
    use_upstream(page, base_url, scripted)
    script(scripted, "Short answer from a phone.")
    box = message_box(page)
    expect(box).to_be_in_viewport()
    send(page, "Hi from a phone")
    expect(wait_done(page).locator(".msg-body")).to_have_text("Short answer from a phone.")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    page.locator("#chat-attach-input").set_input_files(
        files=[FilePayload(name="tool.exe", mimeType="application/octet-stream", buffer=b"MZ\0\0")]
    )
    chip = page.locator(".attachment", has_text="tool.exe")
    expect(chip.get_by_role("alert")).to_contain_text(re.compile(r"\([A-Z_]+\)"))
    screenshot(page, "chat-phone")


def test_auto_scroll_follows_only_a_reader_at_the_bottom(
    page: Page, base_url: str, scripted: FakeUpstream
) -> None:
    page.set_viewport_size({"width": 900, "height": 600})
    sign_in(page, base_url, "chat-scroll@example.com")
    use_upstream(page, base_url, scripted)
    paragraphs = "".join(f"Paragraph {i} of a long answer.\n\n" for i in range(120))
    script(scripted, paragraphs + "THE-END", pieces=120)
    scripted.chunk_delay = 0.08
    try:
        send(page, "A long answer please")
        answer = last_answer(page)
        scroller = page.locator(".chat-scroll")
        expect(answer.locator(".msg-body")).to_contain_text("Paragraph 30")
        # the reader scrolls up: the page stops following and offers a jump
        scroller.hover()
        page.mouse.wheel(0, -3000)
        jump = page.get_by_role("button", name="Jump to latest")
        expect(jump).to_be_visible()
        wait_done(page)
        at_bottom = "e => e.scrollHeight - e.scrollTop - e.clientHeight < 60"
        assert not scroller.evaluate(at_bottom)
        jump.click()
        expect(jump).to_be_hidden()
        assert scroller.evaluate(at_bottom)
    finally:
        scripted.chunk_delay = 0.0


def test_opening_a_long_conversation_shows_its_end(
    page: Page, base_url: str, scripted: FakeUpstream
) -> None:
    """Earlier answers off screen are skipped by layout (content-visibility) and get their
    real height only when drawn; the page still lands at the very end, not above it."""
    sign_in(page, base_url, "chat-long-history@example.com")
    use_upstream(page, base_url, scripted)
    body = "".join(f"Line {i} of a long stored answer.\n\n" for i in range(60))
    conversation = None
    for turn in range(12):
        script(scripted, body + f"END-OF-ANSWER-{turn}")
        data = {"message": f"question {turn}", "provider": "openai", "model": "gpt-4o-mini"}
        if conversation:
            data["conversation_id"] = conversation
        r = page.request.post(f"{base_url}/api/chat", data=data, headers={"Origin": base_url})
        assert r.ok, r.text()
        conversation = r.json()["conversation_id"]
    page.goto(f"{base_url}/?c={conversation}")
    expect(page.locator("article.msg-assistant")).to_have_count(12)
    scroller = page.locator(".chat-scroll")
    expect(last_answer(page).get_by_text("END-OF-ANSWER-11")).to_be_in_viewport()
    at_bottom = "e => e.scrollHeight - e.scrollTop - e.clientHeight < 60"
    page.wait_for_timeout(300)  # a frame or two for any placeholder to be replaced
    assert scroller.evaluate(at_bottom)
    expect(page.get_by_role("button", name="Jump to latest")).to_be_hidden()


def test_deep_thinking_steps_stay_readable(
    page: Page, base_url: str, scripted: FakeUpstream
) -> None:
    sign_in(page, base_url, "chat-thinking@example.com")
    use_upstream(page, base_url, scripted)
    # the upstream answers both passes (reasoning, then the answer) with this text
    script(scripted, "1. Look at the question.\n2. Answer it briefly.")
    page.get_by_label("Deep thinking").check()
    send(page, "Why is the sky blue?")
    answer = wait_done(page)
    thinking = answer.locator("details.thinking")
    expect(thinking).to_have_attribute("open", "")
    expect(thinking.locator("summary")).to_have_text(re.compile(r"Thinking \(\d+ steps?\)"))
    expect(thinking).to_contain_text("Look at the question")
    thinking.locator("summary").click()
    expect(thinking).not_to_have_attribute("open", "")
    page.reload()
    expect(page.get_by_label("Deep thinking")).to_be_checked()  # kept in prefs


def test_a_failed_answer_shows_the_error_code_and_new_chat_clears(
    page: Page, base_url: str, scripted: FakeUpstream
) -> None:
    sign_in(page, base_url, "chat-error@example.com")
    use_upstream(page, base_url, scripted)
    scripted.fail_with(503)
    try:
        send(page, "This will fail")
        answer = last_answer(page)
        expect(answer).to_have_attribute("data-state", "error", timeout=60_000)
        expect(answer.get_by_role("alert")).to_contain_text(re.compile(r"\([A-Z_]+\)"))
    finally:
        scripted.failure = None
    # the page can go on: regenerate the failed answer, then start a new chat
    script(scripted, "Worked this time.")
    answer.get_by_role("button", name="Regenerate answer").click()
    expect(wait_done(page).locator(".msg-body")).to_have_text("Worked this time.")
    page.keyboard.press("Control+Shift+O")
    expect(page.locator("article.msg")).to_have_count(0)
    expect(page).not_to_have_url(re.compile(r"\?c="))
    expect(message_box(page)).to_be_focused()
