"""The local hub speaks what huggingface_hub expects (so it can stand in for the real one)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from tests.support.gguf_fixtures import REPO
from tests.support.hub_server import Hub


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_model_info_tree_and_paths_info(hub: Hub) -> None:
    api = HfApi(endpoint=hub.url, token=False)
    info = api.model_info(REPO, files_metadata=True)
    assert info.sha == hub.commit(REPO)
    by_name = {s.rfilename: s for s in info.siblings or []}
    q4 = by_name["tiny.Q4_K_M.gguf"]
    assert q4.lfs is not None and q4.lfs.sha256 == sha256(hub.root / REPO / "tiny.Q4_K_M.gguf")
    assert "sub/tiny.Q2_K.gguf" in by_name and by_name["README.md"].lfs is None
    tree = {f.path for f in api.list_repo_tree(REPO, recursive=True)}
    assert {"sub", "sub/tiny.Q2_K.gguf", "tiny.Q8_0.gguf"} <= tree
    (entry,) = api.get_paths_info(REPO, ["tiny.Q8_0.gguf"])
    assert entry.lfs is not None and entry.lfs.sha256 == sha256(hub.root / REPO / "tiny.Q8_0.gguf")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("acme/missing")
    with pytest.raises(RevisionNotFoundError):
        api.model_info(REPO, revision="nope")


def test_hf_hub_download_and_range_resume(hub: Hub, tmp_path: Path) -> None:
    path = hf_hub_download(
        REPO, "tiny.Q4_K_M.gguf", endpoint=hub.url, cache_dir=tmp_path / "c", token=False
    )
    assert sha256(Path(path)) == sha256(hub.root / REPO / "tiny.Q4_K_M.gguf")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(REPO, "missing.gguf", endpoint=hub.url, cache_dir=tmp_path / "c")
    import httpx

    r = httpx.get(f"{hub.url}/{REPO}/resolve/main/tiny.Q8_0.gguf", headers={"Range": "bytes=10-"})
    assert r.status_code == 206
    size = (hub.root / REPO / "tiny.Q8_0.gguf").stat().st_size
    assert r.headers["content-range"] == f"bytes 10-{size - 1}/{size}"
    assert r.content == (hub.root / REPO / "tiny.Q8_0.gguf").read_bytes()[10:]


def test_faults_drop_corrupt_status(hub: Hub) -> None:
    import httpx

    url = f"{hub.url}/{REPO}/resolve/main/tiny.Q8_0.gguf"
    hub.fault(REPO, "tiny.Q8_0.gguf", drop_after=1000, times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(url)
    assert httpx.get(url).status_code == 200  # the fault applied once
    hub.fault(REPO, "tiny.Q8_0.gguf", corrupt=True, times=1)
    body = httpx.get(url).content
    assert body != (hub.root / REPO / "tiny.Q8_0.gguf").read_bytes()
    hub.fault(REPO, "tiny.Q8_0.gguf", status=500, times=1)
    assert httpx.get(url).status_code == 500
    # the hub logs a request after its response went out: wait (bounded) for the last entry
    deadline = time.monotonic() + 10
    log = hub.requests("tiny.Q8_0.gguf")
    while (not log or log[-1].status != 500) and time.monotonic() < deadline:
        time.sleep(0.05)
        log = hub.requests("tiny.Q8_0.gguf")
    assert [e.status for e in log][-1] == 500 and log[0].sent == 1000
