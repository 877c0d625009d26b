"""The Documents view, in a real browser against `lmwebui serve`: upload with the ingest
result, the user's list, delete with confirmation, another user's privacy, a refused file."""

from __future__ import annotations

from playwright.sync_api import Browser, Locator, Page, expect

from tests.support.web import screenshot, sign_in

NOTES = b"""# Field notes

The quokka is a small marsupial that lives on Rottnest Island, off the coast of Perth.
Visitors photograph it because it seems to smile.

## Diet

Quokkas eat leaves, grasses and succulents, and can go long periods without water.
"""


def open_documents(page: Page, base_url: str, email: str) -> None:
    sign_in(page, base_url, email)
    page.get_by_role("link", name="Documents").click()
    expect(page.get_by_role("heading", name="Documents", exact=True)).to_be_visible()


def my_documents(page: Page) -> Locator:
    return page.get_by_role("region", name="My documents")


def upload(page: Page, name: str, data: bytes, mime: str) -> Locator:
    panel = page.get_by_role("region", name="Add a document")
    panel.get_by_label("Document", exact=True).set_input_files(
        {"name": name, "mimeType": mime, "buffer": data}
    )
    panel.get_by_role("button", name="Upload").click()
    return panel


def test_upload_list_delete_and_privacy(page: Page, base_url: str, browser: Browser) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_documents(page, base_url, "docs-owner@example.com")
    expect(my_documents(page)).to_contain_text("No documents yet.")

    panel = upload(page, "quokka-notes.md", NOTES, "text/markdown")
    result = panel.get_by_role("status")
    expect(result).to_contain_text("Ingested quokka-notes.md (markdown", timeout=60_000)
    expect(result).to_contain_text("1 page")
    expect(result).to_contain_text("chunk")
    item = my_documents(page).get_by_role("listitem").filter(has_text="quokka-notes.md")
    expect(item).to_contain_text("chunk")
    expect(my_documents(page)).to_contain_text("1 document")
    screenshot(page, "documents")

    # Another user does not see it.
    other = browser.new_context().new_page()
    try:
        open_documents(other, base_url, "docs-other@example.com")
        expect(my_documents(other)).to_contain_text("No documents yet.")
        expect(other.get_by_text("quokka-notes.md")).to_have_count(0)
    finally:
        other.context.close()

    item.get_by_role("button", name="Delete quokka-notes.md").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(my_documents(page).get_by_text("quokka-notes.md")).to_have_count(0)
    expect(my_documents(page)).to_contain_text("No documents yet.")
    page.reload()
    expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=30_000)
    expect(my_documents(page)).to_contain_text("No documents yet.")
    assert errors == []


def test_a_file_type_it_cannot_read_shows_the_error(page: Page, base_url: str) -> None:
    open_documents(page, base_url, "docs-badfile@example.com")
    binary = bytes(range(256)) * 16
    panel = upload(page, "blob.bin", binary, "application/octet-stream")
    alert = panel.get_by_role("alert")
    expect(alert).to_contain_text("UNSUPPORTED_MEDIA_TYPE")
    expect(alert).to_contain_text("supported: PDF")
    expect(my_documents(page)).to_contain_text("No documents yet.")


def test_documents_on_a_phone(page: Page, base_url: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    open_documents(page, base_url, "docs-phone@example.com")
    upload(page, "phone-notes.txt", b"Notes typed on a phone.\n", "text/plain")
    item = my_documents(page).get_by_role("listitem").filter(has_text="phone-notes.txt")
    delete = item.get_by_role("button", name="Delete phone-notes.txt")
    expect(delete).to_be_visible()
    box = delete.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390, box
    view = page.locator("section.view-documents")
    wide = view.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert wide[0] <= wide[1], f"the view scrolls sideways on a phone ({wide})"
    screenshot(page, "documents-phone")
