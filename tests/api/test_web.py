"""The page's static files as the ingress serves them: security and cache headers, gzip,
the API's error body for what is not a file, and a module graph with no missing file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lmwebui.api.web import web_root
from tests.support.app import app_client, make_settings


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with app_client(make_settings(tmp_path_factory.mktemp("web"))) as c:
        yield c


def test_page_has_strict_csp_and_security_headers(client: TestClient) -> None:
    res = client.get("/")
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/html")
    csp = res.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert res.headers["x-content-type-options"] == "nosniff"
    assert res.headers["x-frame-options"] == "DENY"
    assert res.headers["cache-control"] == "no-cache"
    # A conversation link (?c=…) is the same page.
    assert client.get("/?c=conv_123").text == res.text


def test_no_inline_script_or_handler_in_html() -> None:
    html = (web_root() / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert "style=" not in html


def test_vendored_files_are_cached_for_a_year_and_own_files_revalidate(client: TestClient) -> None:
    vendor = client.get("/vendor/marked-18.3.0/marked.esm.js")
    assert vendor.status_code == 200
    assert vendor.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert vendor.headers["content-type"].startswith("text/javascript")
    own = client.get("/js/api.js")
    assert own.headers["cache-control"] == "no-cache"
    again = client.get("/js/api.js", headers={"If-None-Match": own.headers["etag"]})
    assert again.status_code == 304


def test_files_are_gzipped_for_browsers_that_accept_it(client: TestClient) -> None:
    res = client.get(
        "/vendor/highlightjs-11.12.0/highlight.min.js", headers={"Accept-Encoding": "gzip"}
    )
    assert res.headers["content-encoding"] == "gzip"
    assert res.num_bytes_downloaded < len(res.content) / 2


@pytest.mark.parametrize(
    "path", ["/api/nope", "/v1/nope", "/nope.js", "/js/../../settings.py", "/%2e%2e/pyproject.toml"]
)
def test_what_is_not_a_file_is_the_api_404(client: TestClient, path: str) -> None:
    res = client.get(path)
    assert res.status_code == 404
    assert res.json()["error_code"] == "NOT_FOUND"


def test_page_answers_only_get_and_head(client: TestClient) -> None:
    assert client.head("/").status_code == 200
    for method in ("POST", "PUT", "DELETE"):
        res = client.request(method, "/js/api.js")
        assert res.status_code == 404, method
        assert res.json()["error_code"] == "NOT_FOUND"


def _imports(path: Path) -> list[str]:
    text = path.read_text()
    found = re.findall(r"""(?:from|import)\s*\(?\s*["'](\.{1,2}/[^"']+)["']""", text)
    return found


def test_every_module_and_asset_the_page_names_exists() -> None:
    root = web_root()
    html = (root / "index.html").read_text()
    for ref in re.findall(r"""(?:href|src)="/([^"?#]+)\"""", html):
        assert (root / ref).is_file(), ref
    for js in root.glob("js/**/*.js"):
        for spec in _imports(js):
            assert (js.parent / spec).resolve().is_file(), f"{js.relative_to(root)} imports {spec}"


def test_vendor_readme_names_every_vendored_folder_with_its_licence() -> None:
    root = web_root() / "vendor"
    readme = (root / "README.md").read_text()
    for folder in (p for p in root.iterdir() if p.is_dir()):
        _name, version = folder.name.rsplit("-", 1)
        assert version in readme, folder.name
        assert any(f.name.startswith("LICENSE") for f in folder.iterdir()), folder.name
