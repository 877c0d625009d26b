"""Settings in a real browser against `lmwebui serve`: the user's provider (its key never
shown back), platform API keys (the secret once, working on /v1, revoked), the theme."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.support.upstream import FakeUpstream
from tests.support.web import screenshot, sign_in
from tests.support.web_data import arrange_conversations

PROVIDER_KEY = "sk-provider-secret-0123456789-abcd"


def _open_settings(page: Page) -> None:
    page.get_by_role("navigation", name="Views").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()


def _key_anywhere(page: Page, secret: str) -> bool:
    """The secret in the DOM's markup, its text, or any field's value."""
    return bool(
        page.evaluate(
            """(secret) => document.documentElement.outerHTML.includes(secret)
                || document.body.innerText.includes(secret)
                || [...document.querySelectorAll('input, textarea')]
                    .some(e => e.value.includes(secret))""",
            secret,
        )
    )


def test_provider_key_is_never_shown_back(
    page: Page, base_url: str, upstream: FakeUpstream
) -> None:
    sign_in(page, base_url, "settings-provider@example.com")
    arrange_conversations(page, base_url, upstream, ["Planning the garden"])
    page.reload()
    _open_settings(page)
    provider = page.get_by_role("region", name="OpenAI-compatible provider")
    # the key the arrangement set: only its hint
    expect(provider.locator(".key-hint")).to_have_text("sk-…0000")
    provider.get_by_label("Base URL").fill(upstream.url)
    provider.get_by_label("API key").fill(PROVIDER_KEY)
    provider.get_by_role("button", name="Save provider").click()
    expect(provider.locator(".key-hint")).to_have_text("sk-…abcd")
    expect(provider).to_contain_text(upstream.url)
    expect(provider.get_by_label("API key")).to_have_value("")
    assert not _key_anywhere(page, PROVIDER_KEY)
    screenshot(page, "settings")
    page.reload()
    expect(provider.locator(".key-hint")).to_have_text("sk-…abcd")
    assert not _key_anywhere(page, PROVIDER_KEY)

    # A refused base URL: the API's error with its code, inline.
    provider.get_by_label("Base URL").fill("http://10.1.2.3/v1")
    provider.get_by_label("API key").fill(PROVIDER_KEY)
    provider.get_by_role("button", name="Save provider").click()
    expect(provider.get_by_role("alert")).to_contain_text("VALIDATION_ERROR")

    provider.get_by_role("button", name="Remove provider").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    expect(provider).to_contain_text("No provider set")


def test_api_key_shown_once_works_then_revoked(page: Page, base_url: str) -> None:
    sign_in(page, base_url, "settings-keys@example.com")
    _open_settings(page)
    keys = page.get_by_role("region", name="API keys")
    keys.get_by_label("Name").fill("ci scripts")
    keys.get_by_role("button", name="Create key").click()
    once = page.get_by_role("region", name="New API key")
    expect(once).to_contain_text("shown only once")
    secret = once.get_by_role("textbox").input_value()
    assert secret.startswith("lmw-"), secret
    expect(once.get_by_role("button", name="Copy key")).to_be_visible()
    row = keys.get_by_role("row", name="ci scripts")
    expect(row).to_be_visible()
    assert secret not in (row.text_content() or "")

    with httpx.Client(base_url=base_url, timeout=30) as http:
        auth = {"Authorization": f"Bearer {secret}"}
        r = http.get("/v1/models", headers=auth)
        assert r.status_code == 200, r.text
        assert r.json()["data"], r.text

        once.get_by_role("button", name="Done, I stored it").click()
        expect(once).to_have_count(0)
        assert not _key_anywhere(page, secret)
        page.reload()
        assert not _key_anywhere(page, secret)

        keys.get_by_role("button", name="Revoke API key ci scripts").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("ci scripts")
        dialog.get_by_role("button", name="Cancel").click()
        expect(row).to_be_visible()
        keys.get_by_role("button", name="Revoke API key ci scripts").click()
        page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
        expect(row).to_have_count(0)
        expect(keys).to_contain_text("No API keys yet")
        assert http.get("/v1/models", headers=auth).status_code == 401


def test_theme_choice_applies_and_persists(page: Page, base_url: str) -> None:
    page.emulate_media(color_scheme="light")
    sign_in(page, base_url, "settings-theme@example.com")
    html = page.locator("html")
    expect(html).to_have_attribute("data-theme", "light")
    _open_settings(page)
    page.get_by_role("radio", name="Dark").check()
    expect(html).to_have_attribute("data-theme", "dark")
    page.reload()
    expect(html).to_have_attribute("data-theme", "dark")
    expect(page.get_by_role("radio", name="Dark")).to_be_checked()
    page.get_by_role("radio", name="System").check()
    expect(html).to_have_attribute("data-theme", "light")  # the system's (emulated) light
    page.emulate_media(color_scheme="dark")
    expect(html).to_have_attribute("data-theme", "dark")
    page.get_by_role("radio", name="Light").check()
    expect(html).to_have_attribute("data-theme", "light")
    # the top bar's theme button and the radios agree
    page.get_by_role("button", name="Theme: light").click()
    expect(page.get_by_role("radio", name="Dark")).to_be_checked()
    expect(html).to_have_attribute("data-theme", "dark")
    usage = page.get_by_role("region", name="Use the API")
    expect(usage.locator("#api-base-url")).to_have_text(f"{base_url}/v1")
