"""The Models view (admins), in a real browser against `lmwebui serve` and the local hub:
resolve, download with live progress that survives a reload, cancel, errors, upload, delete.

The hub holds the download at a gate part-way (tests.support.hub_server's gate fault), so
"mid-download" is a state the test controls rather than a race against the transfer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import gguf
import pytest
from playwright.sync_api import Locator, Page, expect

from lmwebui.filenames import human_size
from tests.support.gguf_files import write_gguf
from tests.support.gguf_fixtures import LIVE_ADMIN, LIVE_FILE, LIVE_REPO, MIB
from tests.support.hub_server import Hub
from tests.support.web import screenshot, sign_in, sign_in_existing

DOWNLOAD_TIMEOUT = 180_000  # release → sha256 check → fsync of ~250 MB on 2 shared cores
# Part-way: a percentage, the bytes so far of the whole file.
MID_PROGRESS = re.compile(r"[1-9]\d?\.\d% · [\d.]+ MB of ")


@pytest.fixture
def throttled_hub(live_hub: Hub) -> Iterator[Hub]:
    """The live hub sending at 2 MB/s: a download of LIVE_FILE lasts about two minutes."""
    live_hub.clear()
    live_hub.state.rate_bps = 2_000_000
    try:
        yield live_hub
    finally:
        live_hub.clear()


@pytest.fixture
def gated_hub(live_hub: Hub) -> Iterator[Hub]:
    """The live hub, holding every GET of LIVE_FILE after 64 MiB until release()."""
    live_hub.clear()
    live_hub.fault(LIVE_REPO, LIVE_FILE, gate_after=64 * MIB)
    try:
        yield live_hub
    finally:
        live_hub.release()
        live_hub.clear()


def open_models(page: Page, base_url: str) -> None:
    sign_in_existing(page, base_url, LIVE_ADMIN)
    page.get_by_role("link", name="Models").click()
    expect(page.get_by_role("heading", name="Models", exact=True)).to_be_visible()


def resolve(page: Page, reference: str) -> None:
    page.get_by_label("Hub repository or URL").fill(reference)
    page.get_by_role("button", name="Resolve").click()


def downloads(page: Page) -> Locator:
    return page.get_by_role("list", name="Downloads").get_by_role("listitem")


def download_row(page: Page, task_id: str) -> Locator:
    return downloads(page).filter(has_text=f"Task {task_id}")


def local_models(page: Page) -> Locator:
    return page.get_by_role("region", name="Local models")


def start_download(page: Page, hub: Hub) -> str:
    """Resolve LIVE_REPO, check its file's size, start it; the new task's id."""
    resolve(page, LIVE_REPO)
    file_row = page.get_by_role("row").filter(has_text=LIVE_FILE)
    expect(file_row).to_contain_text(human_size((hub.root / LIVE_REPO / LIVE_FILE).stat().st_size))
    expect(file_row).to_contain_text("Q4_K_M")
    expect(file_row).to_contain_text("weights fit")  # the first fit check
    file_row.get_by_role("button", name=f"Download {LIVE_FILE}").click()
    newest = downloads(page).first
    expect(newest).to_contain_text(LIVE_FILE)
    expect(newest.get_by_text(re.compile(r"^Task download_"))).to_be_visible()
    return newest.get_by_text(re.compile(r"^Task ")).inner_text().removeprefix("Task ").strip()


def expect_mid_download(row: Locator) -> None:
    expect(row.get_by_role("progressbar", name=f"Download of {LIVE_FILE}")).to_be_visible()
    expect(row).to_contain_text(MID_PROGRESS, timeout=30_000)
    expect(row).to_contain_text("Downloading")


def test_download_survives_a_reload_then_delete(page: Page, base_url: str, gated_hub: Hub) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_models(page, base_url)
    task_id = start_download(page, gated_hub)
    row = download_row(page, task_id)
    expect_mid_download(row)

    page.reload()  # the page lists the running tasks and reattaches to this one
    expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=30_000)
    row = download_row(page, task_id)
    expect_mid_download(row)

    gated_hub.release()
    expect(row).to_contain_text("Completed", timeout=DOWNLOAD_TIMEOUT)
    expect(row.get_by_role("progressbar")).to_have_attribute("value", "100")
    model = local_models(page).get_by_role("listitem").filter(has_text=LIVE_FILE)
    expect(model).to_be_visible()  # refreshed when the download completed
    expect(model).to_contain_text(f"from {LIVE_REPO}")

    model.get_by_role("button", name=f"Check fit of {LIVE_FILE}").click()
    expect(model.get_by_role("status")).to_contain_text(re.compile("Fits|Does not fit"))

    model.get_by_role("button", name=f"Delete {LIVE_FILE}").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(local_models(page).get_by_text(LIVE_FILE)).to_have_count(0)
    assert errors == []


def test_cancel_a_download(page: Page, base_url: str, throttled_hub: Hub) -> None:
    # Throttled rather than gated: a transfer that is moving stops at its next read.
    open_models(page, base_url)
    task_id = start_download(page, throttled_hub)
    row = download_row(page, task_id)
    expect_mid_download(row)
    expect(row).to_contain_text(re.compile(r"[\d.]+ MB/s · .+ left"))  # speed and ETA
    screenshot(page, "models-download")
    row.get_by_role("button", name=f"Cancel download of {LIVE_FILE}").click()
    expect(row).to_contain_text("Cancelled")
    expect(row.get_by_role("button", name=re.compile("^Cancel"))).to_be_hidden()
    expect(local_models(page).get_by_text(LIVE_FILE)).to_have_count(0)
    page.reload()  # still cancelled after a reload, and the partial file is not listed
    expect(download_row(page, task_id)).to_contain_text("Cancelled")
    local_models(page).get_by_role("button", name="Refresh").click()
    expect(local_models(page).get_by_role("listitem").first).to_be_visible()
    expect(local_models(page).get_by_text(LIVE_FILE)).to_have_count(0)


@pytest.fixture
def corrupting_hub(live_hub: Hub) -> Iterator[Hub]:
    """The live hub flipping one byte of LIVE_FILE (its listing keeps the true sha256)."""
    live_hub.clear()
    live_hub.fault(LIVE_REPO, LIVE_FILE, corrupt=True)
    try:
        yield live_hub
    finally:
        live_hub.clear()


def test_a_failed_download_shows_its_error_code(
    page: Page, base_url: str, corrupting_hub: Hub
) -> None:
    open_models(page, base_url)
    task_id = start_download(page, corrupting_hub)
    row = download_row(page, task_id)
    expect(row).to_contain_text("Failed", timeout=DOWNLOAD_TIMEOUT)
    expect(row.get_by_role("alert")).to_contain_text("CHECKSUM_MISMATCH")
    expect(row.get_by_role("button", name=re.compile("^Cancel"))).to_be_hidden()
    page.reload()  # the failed task and its error are listed after a reload
    expect(download_row(page, task_id).get_by_role("alert")).to_contain_text("CHECKSUM_MISMATCH")
    expect(local_models(page).get_by_role("listitem").first).to_be_visible()
    expect(local_models(page).get_by_text(LIVE_FILE)).to_have_count(0)


def test_resolve_an_unknown_repository_shows_its_error(page: Page, base_url: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})  # and the view fits a phone
    open_models(page, base_url)
    resolve(page, "acme/no-such-repo")
    alert = page.get_by_role("region", name="Get a model from the Hub").get_by_role("alert")
    expect(alert).to_contain_text("MODEL_NOT_FOUND")
    expect(alert).to_contain_text("acme/no-such-repo")
    resolve(page, LIVE_REPO)
    expect(page.get_by_role("button", name=f"Download {LIVE_FILE}")).to_be_visible()
    wide = page.locator("section.view-models").evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert wide[0] <= wide[1], f"the view scrolls sideways on a phone ({wide})"
    screenshot(page, "models-phone")


def test_upload_a_gguf_and_a_file_that_is_not_one(
    page: Page, base_url: str, tmp_path: Path
) -> None:
    open_models(page, base_url)
    panel = page.get_by_role("region", name="Upload a model")
    panel.get_by_label("GGUF file").set_input_files(
        {"name": "notes.gguf", "mimeType": "application/octet-stream", "buffer": b"not a model\n"}
    )
    panel.get_by_role("button", name="Upload").click()
    expect(panel.get_by_role("alert")).to_contain_text("Not a valid GGUF file")
    expect(panel.get_by_role("alert")).to_contain_text("VALIDATION_ERROR")

    tiny = tmp_path / "web-tiny.Q8_0.gguf"
    write_gguf(tiny, data_bytes=MIB, file_type=gguf.LlamaFileType.MOSTLY_Q8_0)
    panel.get_by_label("GGUF file").set_input_files(tiny)
    panel.get_by_role("button", name="Upload").click()
    expect(panel.get_by_role("status")).to_contain_text(f"Uploaded {tiny.name}")
    model = local_models(page).get_by_role("listitem").filter(has_text=tiny.name)
    expect(model).to_contain_text("uploaded")
    model.get_by_role("button", name=f"Delete {tiny.name}").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(model).to_be_visible()  # cancelled: still there
    model.get_by_role("button", name=f"Delete {tiny.name}").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(local_models(page).get_by_text(tiny.name)).to_have_count(0)


def test_a_plain_user_cannot_open_models(page: Page, base_url: str) -> None:
    sign_in(page, base_url, "models-plain-user@example.com")
    page.goto(base_url + "/#models")  # the hash alone does not open an admin view
    expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=30_000)
    expect(page.get_by_role("heading", name="Models", exact=True)).to_have_count(0)
