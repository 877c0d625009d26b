"""Reference parsing, the download URL policy (no SSRF) and file-name sanitising."""

from __future__ import annotations

import pytest

from lmwebui.errors import ValidationFailed
from lmwebui.models.hub_policy import (
    HubPolicy,
    HubRef,
    UnsafeURL,
    is_public_address,
    parse_reference,
)
from lmwebui.models.storage import check_model_name, sanitize_filename

HF = HubPolicy("https://huggingface.co", ["hf.co"], ["huggingface.co", ".huggingface.co", ".hf.co"])


def test_reference_forms() -> None:
    assert parse_reference("TheBloke/Llama-2-7B-GGUF", HF) == HubRef(
        "TheBloke/Llama-2-7B-GGUF", None, None
    )
    assert parse_reference("a/b:x.Q4_K_M.gguf", HF) == HubRef("a/b", None, "x.Q4_K_M.gguf")
    assert parse_reference("a/b@v1.0:dir/x.gguf", HF) == HubRef("a/b", "v1.0", "dir/x.gguf")
    assert parse_reference("a/b@refs/pr/3", HF) == HubRef("a/b", "refs/pr/3", None)
    url = "https://huggingface.co/TheBloke/Llama-2-7B-GGUF/resolve/main/llama-2-7b.Q4_K_M.gguf"
    assert parse_reference(url, HF) == HubRef(
        "TheBloke/Llama-2-7B-GGUF", "main", "llama-2-7b.Q4_K_M.gguf"
    )
    assert parse_reference("https://hf.co/a/b/resolve/main/x%20y.gguf", HF).path == "x y.gguf"
    for bad in ("a", "a/b/c", "a--b/c", "a/../b", "-a/b", "a/b:", "a/b@:x", "a/b:../x.gguf"):
        with pytest.raises(ValidationFailed):
            parse_reference(bad, HF)
    for bad in (
        "http://huggingface.co/a/b/resolve/main/x.gguf",  # wrong scheme for the endpoint
        "https://huggingface.co:8443/a/b/resolve/main/x.gguf",
        "https://evil.com/a/b/resolve/main/x.gguf",
        "https://huggingface.co.evil.com/a/b/resolve/main/x.gguf",
        "https://u:p@huggingface.co/a/b/resolve/main/x.gguf",
        "https://huggingface.co/a/b/tree/main/x.gguf",
    ):
        with pytest.raises(ValidationFailed):
            parse_reference(bad, HF)


def test_redirect_policy() -> None:
    cur = "https://huggingface.co/a/b/resolve/main/x.gguf"
    assert HF.next_url(cur, "/a/b/resolve/abc/x.gguf").startswith("https://huggingface.co/")
    assert HF.next_url(cur, "https://cdn-lfs.hf.co/x?sig=1").startswith("https://cdn-lfs")
    assert HF.next_url(cur, "https://cas-bridge.xethub.hf.co/x").startswith("https://cas")
    for target in (
        "https://169.254.169.254/latest",
        "https://[::1]/x",
        "http://cdn-lfs.hf.co/x",  # CDN over plain http
        "https://evil.com/x",
        "https://hf.co.evil.com/x",
        "ftp://cdn-lfs.hf.co/x",
    ):
        with pytest.raises(UnsafeURL):
            HF.next_url(cur, target)


def test_public_addresses() -> None:
    for private in (
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.1",
        "169.254.169.254",
        "::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "0.0.0.0",
        "100.64.0.1",
    ):
        assert not is_public_address(private), private
    assert is_public_address("18.160.0.1") and is_public_address("2600:1f18::1")


def test_model_names() -> None:
    assert sanitize_filename("../../a b.gguf") == "a_b.gguf"
    assert sanitize_filename("C:\\x\\\uff2dodel  v2.gguf") == "Model_v2.gguf"  # fullwidth M
    assert sanitize_filename("dir\\x.GGUF") == "x.gguf"
    for bad in ("../../etc/passwd", "", ".gguf", "a.bin"):
        with pytest.raises(ValidationFailed):
            sanitize_filename(bad)
    for bad in ("../x.gguf", "x/y.gguf", ".x.gguf", "x.gguf\0", "x" * 300 + ".gguf"):
        with pytest.raises(ValidationFailed):
            check_model_name(bad)
