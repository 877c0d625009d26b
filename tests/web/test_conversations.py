"""The conversations sidebar in a real browser against `lmwebui serve`: newest first, paged,
searched by title, opened (the URL keeps it), deleted with confirmation, private."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.support.upstream import FakeUpstream
from tests.support.web import sign_in
from tests.support.web_data import arrange_conversations, arrange_other_users_conversation


def _sidebar(page: Page) -> Locator:
    return page.get_by_role("complementary", name="Conversations")


def _titles(page: Page) -> Locator:
    return _sidebar(page).locator(".conv-title")


def test_newest_first_open_and_reload_keeps_it(
    page: Page, base_url: str, upstream: FakeUpstream
) -> None:
    sign_in(page, base_url, "conv-list@example.com")
    other = arrange_other_users_conversation(
        base_url, upstream, "conv-list-other@example.com", "Someone else's secret"
    )
    ids = arrange_conversations(page, base_url, upstream, ["Alpha one", "Beta two", "Gamma three"])
    page.reload()
    expect(_titles(page)).to_have_text(["Gamma three", "Beta two", "Alpha one"])
    expect(_sidebar(page)).not_to_contain_text("Someone else's secret")

    beta = _sidebar(page).get_by_role("link", name=re.compile("Beta two"))
    beta.click()
    expect(page).to_have_url(re.compile(rf"\?c={ids[1]}"))
    expect(beta).to_have_attribute("aria-current", "page")
    expect(_sidebar(page).locator("[aria-current=page]")).to_have_count(1)
    page.reload()
    expect(_sidebar(page).get_by_role("link", name=re.compile("Beta two"))).to_have_attribute(
        "aria-current", "page"
    )
    # Another user's id in the URL opens nothing of theirs.
    page.goto(f"{base_url}/?c={other}")
    expect(_titles(page)).to_have_count(3)
    expect(page.locator("body")).not_to_contain_text("Someone else's secret")

    # "New chat" leaves the conversation.
    page.get_by_role("button", name="New chat").click()
    expect(page).not_to_have_url(re.compile(r"\?c="))
    expect(_sidebar(page).locator("[aria-current=page]")).to_have_count(0)


def test_load_more_pages_as_the_api_does(page: Page, base_url: str, upstream: FakeUpstream) -> None:
    sign_in(page, base_url, "conv-pages@example.com")
    titles = [f"Topic {i:02d}" for i in range(23)]
    arrange_conversations(page, base_url, upstream, titles)
    page.reload()
    expect(_titles(page)).to_have_count(20)  # the API's page
    expect(_titles(page).first).to_have_text("Topic 22")
    expect(_sidebar(page)).to_contain_text("20 of 23")
    more = _sidebar(page).get_by_role("button", name="Load more")
    more.click()
    expect(_titles(page)).to_have_text(list(reversed(titles)))
    expect(more).to_be_hidden()


def test_search_by_title(page: Page, base_url: str, upstream: FakeUpstream) -> None:
    sign_in(page, base_url, "conv-search@example.com")
    arrange_conversations(
        page, base_url, upstream, ["Paris trip", "Grocery list", "paris museums", "50% off"]
    )
    page.reload()
    expect(_titles(page)).to_have_count(4)
    search = page.get_by_label("Search conversations")
    search.fill("PARIS")
    expect(_titles(page)).to_have_text(["paris museums", "Paris trip"])
    search.fill("%")
    expect(_titles(page)).to_have_text(["50% off"])
    search.fill("nothing like this")
    expect(_titles(page)).to_have_count(0)
    expect(_sidebar(page)).to_contain_text("No conversation matches")
    search.press("Escape")  # clears the search
    expect(search).to_have_value("")
    expect(_titles(page)).to_have_count(4)


def test_delete_asks_first(page: Page, base_url: str, upstream: FakeUpstream) -> None:
    sign_in(page, base_url, "conv-delete@example.com")
    ids = arrange_conversations(page, base_url, upstream, ["Keep me", "Delete me"])
    page.goto(f"{base_url}/?c={ids[1]}")
    expect(_titles(page)).to_have_text(["Delete me", "Keep me"])
    delete = _sidebar(page).get_by_role("button", name="Delete conversation: Delete me")

    delete.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete me")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(_titles(page)).to_have_text(["Delete me", "Keep me"])

    delete.click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(_titles(page)).to_have_text(["Keep me"])
    # the keyboard stays in the list
    keep = _sidebar(page).get_by_role("button", name="Delete conversation: Keep me")
    expect(keep).to_be_focused()
    # it was open: the page went to a new chat
    expect(page).not_to_have_url(re.compile(r"\?c="))
    page.reload()
    expect(_titles(page)).to_have_text(["Keep me"])
