"""Driving the page in a real browser (Debian's chromium through Playwright).

Playwright never downloads a browser here: ``CHROMIUM`` is the Debian package that
`make sysdeps` installs. Helpers act as a person does: through the page's labelled
controls, never by calling the API behind its back (except to arrange fixtures).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.support.api import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
# Where the tests write their screenshots: LMWEBUI_SCREENSHOTS (docs/screenshots to refresh
# the README's), else a temporary folder.
SCREENSHOTS = Path(os.environ.get("LMWEBUI_SCREENSHOTS") or tempfile.mkdtemp(prefix="shots-"))


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def sign_in(
    page: Page, base_url: str, email: str, password: str = PASSWORD, register: bool = True
) -> None:
    """Open the page and sign in (registering first when asked) through its form."""
    page.goto(base_url + "/")
    if register:
        page.get_by_role("button", name="Create an account").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account" if register else "Sign in").click()
    expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=30_000)


def sign_in_existing(page: Page, base_url: str, email: str, password: str = PASSWORD) -> None:
    sign_in(page, base_url, email, password, register=False)
