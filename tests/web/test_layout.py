"""The page on a phone, in the dark, and from the keyboard (real browser, `lmwebui serve`)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.support.upstream import FakeUpstream
from tests.support.web import screenshot, sign_in
from tests.support.web_data import arrange_conversations

# WCAG relative luminance and contrast of two computed CSS colours (rgb()/rgba()).
CONTRAST_JS = """(el) => {
  const parse = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (rgb) => {
    const lin = (v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    const [r, g, b] = rgb.map((v) => lin(v / 255));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const style = getComputedStyle(el);
  const [a, b] = [lum(parse(style.color)), lum(parse(style.backgroundColor))];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""

# The first three hints on the settings panels, each against its panel's background.
HINTS_CONTRAST_JS = (
    "() => [...document.querySelectorAll('.settings-part .hint')].slice(0, 3).map((el) => ("
    + CONTRAST_JS.replace(
        "style.backgroundColor", "getComputedStyle(el.closest('.settings-part')).backgroundColor"
    )
    + ")(el))"
)

UNLABELLED_JS = """() => [...document.querySelectorAll('button, input, select, textarea, a[href]')]
  .filter((e) => e.offsetParent !== null && e.type !== 'hidden')
  .filter((e) => !(e.getAttribute('aria-label') || e.getAttribute('aria-labelledby')
      || (e.labels && e.labels.length) || e.textContent.trim() || e.title))
  .map((e) => e.outerHTML.slice(0, 120))"""


def test_phone_layout(page: Page, base_url: str, upstream: FakeUpstream) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, base_url, "layout-phone@example.com")
    arrange_conversations(page, base_url, upstream, ["On the phone"])
    page.reload()
    sidebar = page.get_by_role("complementary", name="Conversations")
    toggle = page.get_by_role("button", name="Toggle sidebar")
    expect(sidebar).to_be_hidden()  # closed by default on a phone
    expect(toggle).to_have_attribute("aria-expanded", "false")
    message = page.get_by_label("Message", exact=True)
    expect(message).to_be_visible()
    message.fill("typed on a phone")
    expect(message).to_have_value("typed on a phone")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390

    toggle.click()
    expect(sidebar).to_be_visible()
    # over the page, not beside it: the main column keeps the whole width
    box = sidebar.bounding_box()
    main = page.locator("div.main").bounding_box()
    assert box is not None and main is not None
    assert box["x"] == 0 and box["width"] < 390 and main["width"] == 390
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    screenshot(page, "phone-sidebar")
    # opening a conversation closes the sidebar on a phone
    sidebar.get_by_role("link", name=re.compile("On the phone")).click()
    expect(page).to_have_url(re.compile(r"\?c=conv_"))
    expect(sidebar).to_be_hidden()
    expect(page.get_by_label("Message", exact=True)).to_be_visible()
    screenshot(page, "phone")

    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    assert page.evaluate("document.querySelector('.view-settings').scrollWidth") <= 390


def test_dark_theme_follows_the_system_and_is_readable(page: Page, base_url: str) -> None:
    page.emulate_media(color_scheme="dark")
    sign_in(page, base_url, "layout-dark@example.com")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert page.locator("body").evaluate(CONTRAST_JS) >= 7  # WCAG AAA for body text
    background = page.locator("body").evaluate("(b) => getComputedStyle(b).backgroundColor")
    assert sum(map(int, re.findall(r"\d+", background)[:3])) < 3 * 64, background  # dark
    screenshot(page, "dark")
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    expect(page.locator(".settings-part .hint").first).to_be_visible()
    # secondary text on its panel: at least WCAG AA. Measured in one call: the view
    # re-renders its parts as their data arrives, and a hint found by one call could be
    # detached by the next (no computed colours then).
    ratios = page.evaluate(HINTS_CONTRAST_JS)
    assert ratios and all(r >= 4.5 for r in ratios), ratios
    screenshot(page, "dark-settings")
    page.emulate_media(color_scheme="light")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")


def test_keyboard(page: Page, base_url: str, upstream: FakeUpstream) -> None:
    sign_in(page, base_url, "layout-keys@example.com")
    ids = arrange_conversations(page, base_url, upstream, ["Keyboard talk"])
    page.goto(f"{base_url}/?c={ids[0]}")
    sidebar = page.get_by_role("complementary", name="Conversations")
    expect(sidebar.locator("[aria-current=page]")).to_have_count(1)

    page.keyboard.press("Control+Shift+O")  # new chat
    expect(page).not_to_have_url(re.compile(r"\?c="))
    expect(sidebar.locator("[aria-current=page]")).to_have_count(0)

    # "?" outside a text field opens the help; Esc closes it
    new_chat = page.get_by_role("button", name="New chat")
    new_chat.focus()
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Ctrl+Shift+O")
    page.keyboard.press("Escape")
    expect(help_dialog).to_have_count(0)

    # the sidebar toggles from the keyboard; focus is visible on what Tab reaches
    page.keyboard.press("Control+Shift+S")
    expect(sidebar).to_be_hidden()
    page.keyboard.press("Control+Shift+S")
    expect(sidebar).to_be_visible()
    new_chat.focus()
    page.keyboard.press("Tab")
    outline = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert outline[0] != "none" and outline[1] != "0px", outline
    # every visible control has a name a screen reader can say
    assert page.evaluate(UNLABELLED_JS) == []
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    assert page.evaluate(UNLABELLED_JS) == []
    # a new chat from another view goes to the chat
    page.keyboard.press("Control+Shift+O")
    expect(page.get_by_role("link", name="Chat", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_hidden()
