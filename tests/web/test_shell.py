"""Signing in and the page's frame, in a real browser against `lmwebui serve`."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.gguf_fixtures import LIVE_ADMIN
from tests.support.web import sign_in, sign_in_existing


def test_register_sign_in_and_out(page: Page, base_url: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, base_url, "shell-user@example.com")
    expect(page.get_by_role("navigation", name="Views")).to_be_visible()
    # Not an admin: no Models view.
    expect(page.get_by_role("link", name="Models")).to_have_count(0)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert errors == []


def test_admin_sees_models_view(page: Page, base_url: str) -> None:
    sign_in_existing(page, base_url, LIVE_ADMIN)
    expect(page.get_by_role("link", name="Models")).to_be_visible()


def test_wrong_password_shows_the_api_error(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    page.get_by_label("Email").fill("nobody@example.com")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("INVALID_CREDENTIALS")
