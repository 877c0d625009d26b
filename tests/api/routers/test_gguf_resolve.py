"""POST /api/gguf/resolve against the local hub: every reference form and every bad input."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.api import assert_error
from tests.support.gguf_fixtures import (
    REPO,
    GGUFClientFactory,
    user_headers,
)
from tests.support.hub_server import Hub
from tests.support.live import free_port


def resolve(client: TestClient, h: dict[str, str], text: str) -> dict:  # type: ignore[type-arg]
    r = client.post("/api/gguf/resolve", json={"input": text}, headers=h)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_bare_repo_lists_every_gguf_and_picks_a_default(gguf_client: TestClient, hub: Hub) -> None:
    h = user_headers(gguf_client)  # resolving is open to every user
    body = resolve(gguf_client, h, REPO)
    assert body["resolved"] is True and body["default_selected"] is True
    assert body["filename"] == "tiny.Q4_K_M.gguf" and body["quantization"] == "Q4_K_M"
    assert body["url"] == f"{hub.url}/{REPO}/resolve/main/tiny.Q4_K_M.gguf"
    assert body["size_bytes"] == (hub.root / REPO / "tiny.Q4_K_M.gguf").stat().st_size
    assert body["human_size"] == "4.2 MB"
    assert len(body["sha256"]) == 64 and body["commit"] == hub.commit(REPO)
    paths = {f["path"]: f for f in body["files"]}
    assert set(paths) == {
        "tiny.Q4_K_M.gguf",
        "tiny.Q8_0.gguf",
        "sub/tiny.Q2_K.gguf",  # recursive
        "mmproj-tiny-f16.gguf",
    }
    assert paths["sub/tiny.Q2_K.gguf"]["quantization"] == "Q2_K"
    assert paths["sub/tiny.Q2_K.gguf"]["filename"] == "tiny.Q2_K.gguf"
    assert body["quantizations"] == ["Q2_K", "Q4_K_M", "Q8_0"]


def test_file_references(gguf_client: TestClient, hub: Hub) -> None:
    commit = hub.commit(REPO)
    h = user_headers(gguf_client)
    cases = [
        (f"{REPO}:tiny.Q8_0.gguf", "tiny.Q8_0.gguf", "main"),
        (f"{REPO}:sub/tiny.Q2_K.gguf", "sub/tiny.Q2_K.gguf", "main"),
        (f"{REPO}@main:tiny.Q8_0.gguf", "tiny.Q8_0.gguf", "main"),
        (f"{hub.url}/{REPO}/resolve/main/sub/tiny.Q2_K.gguf", "sub/tiny.Q2_K.gguf", "main"),
        (f"{hub.url}/{REPO}/blob/main/tiny.Q8_0.gguf", "tiny.Q8_0.gguf", "main"),
        (f"{REPO}@{commit}:tiny.Q8_0.gguf", "tiny.Q8_0.gguf", commit),
    ]
    for text, path, revision in cases:
        body = resolve(gguf_client, h, text)
        assert body["path"] == path and body["revision"] == revision, text
        assert body["default_selected"] is False
        assert body["url"] == f"{hub.url}/{REPO}/resolve/{revision}/{path}"
    body = resolve(gguf_client, h, f"{hub.url}/{REPO}")  # a repo URL is a bare repo
    assert body["default_selected"] is True and body["filename"] == "tiny.Q4_K_M.gguf"


BAD_REFERENCES = [
    "",
    "   ",
    "noslash",
    "a/b/c",
    "../../etc/passwd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "acme/tiny-GGUF:",
    "acme/tiny-GGUF@:tiny.Q8_0.gguf",
    "acme/tiny-GGUF:../../etc/passwd.gguf",
    "acme/tiny-GGUF:/abs.gguf",
    "acme/tiny-GGUF@../x:tiny.Q8_0.gguf",
    "acme/tiny-GGUF:tiny.Q8_0.bin",
    "ftp://example.com/acme/x",
    "https://example.com/acme/tiny-GGUF/resolve/main/tiny.Q8_0.gguf",
    "http://169.254.169.254/latest/meta-data",
    "x" * 3000,
]


def test_malformed_references_are_400(gguf_client: TestClient, hub: Hub) -> None:
    h = user_headers(gguf_client)
    for text in BAD_REFERENCES:
        r = gguf_client.post("/api/gguf/resolve", json={"input": text}, headers=h)
        assert_error(r, 400, "VALIDATION_ERROR")
    assert not hub.requests("/api/models/acme/tiny-GGUF")  # refused before any hub call


def test_unknown_repo_file_revision_and_repo_without_gguf_are_404(
    gguf_client: TestClient, hub: Hub
) -> None:
    h = user_headers(gguf_client)
    for text in (
        "acme/missing",
        f"{REPO}:missing.Q4_K_M.gguf",
        f"{REPO}@no-such-branch",
        "acme/no-gguf",
        "acme/no-gguf:model.gguf",
    ):
        r = gguf_client.post("/api/gguf/resolve", json={"input": text}, headers=h)
        assert_error(r, 404, "MODEL_NOT_FOUND")


def test_hub_unreachable_failing_or_stalling(
    gguf_client_factory: GGUFClientFactory, hub: Hub
) -> None:
    dead = gguf_client_factory(gguf={"hub_endpoint": f"http://127.0.0.1:{free_port()}"})
    h = user_headers(dead)
    assert_error(
        dead.post("/api/gguf/resolve", json={"input": REPO}, headers=h), 502, "UPSTREAM_ERROR"
    )
    client = gguf_client_factory(gguf={"hub_timeout_s": 1})
    hub.state.api_status = 500
    h = user_headers(client)
    assert_error(
        client.post("/api/gguf/resolve", json={"input": REPO}, headers=h), 502, "UPSTREAM_ERROR"
    )
    hub.state.api_status = None
    hub.state.api_stall_s = 3  # longer than hub_timeout_s: a clear 504, not a hang
    r = client.post("/api/gguf/resolve", json={"input": REPO}, headers=h)
    assert_error(r, 504, "UPSTREAM_TIMEOUT")


def test_resolve_requires_authentication(gguf_client: TestClient) -> None:
    r = gguf_client.post("/api/gguf/resolve", json={"input": REPO})
    assert_error(r, 401, "AUTH_REQUIRED")
