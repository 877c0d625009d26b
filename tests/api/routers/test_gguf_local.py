"""Local models: upload (streamed, validated), list (cached metadata), delete, compatibility."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from lmwebui.api.services import Runtime
from lmwebui.models.files import BUNDLED_MODEL
from lmwebui.models.runtime import GGUFRuntime
from tests.support.api import assert_error
from tests.support.downloads import leftovers, model_names, start, wait_done
from tests.support.gguf_files import write_gguf
from tests.support.gguf_fixtures import (
    MIB,
    GGUFClientFactory,
    admin_headers,
    hub_url,
    user_headers,
)
from tests.support.hub_server import Hub
from tests.support.models import models_dir_with_bundled


def gguf_bytes(tmp_path: Path, name: str = "up.gguf", size: int = 256 * 1024) -> bytes:
    return write_gguf(tmp_path / "src" / name, data_bytes=size).read_bytes()


def upload(client: TestClient, h: dict[str, str], name: str, data: bytes) -> Any:
    return client.post(
        "/api/gguf/upload", files={"file": (name, data, "application/octet-stream")}, headers=h
    )


def test_upload_then_list_then_conflict(gguf_client: TestClient, tmp_path: Path) -> None:
    h = admin_headers(gguf_client)
    data = gguf_bytes(tmp_path)
    r = upload(gguf_client, h, "My Model.Q4_K_M.gguf", data)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "success" and body["message"] == "File uploaded successfully"
    assert body["filename"] == "My_Model.Q4_K_M.gguf" and body["size"] == len(data)
    assert body["human_size"].endswith("KB") and body["architecture"] == "llama"
    models = gguf_client.get("/api/gguf/local", headers=user_headers(gguf_client)).json()
    (item,) = models["models"]
    assert item["name"] == "My_Model.Q4_K_M.gguf" and item["size_bytes"] == len(data)
    assert item["path"] == str(tmp_path / "models" / "My_Model.Q4_K_M.gguf")
    assert item["modified"].endswith("Z") and item["parameter_count"] > 0
    assert item["context_length"] == 2048 and item["valid"] is True
    r = upload(gguf_client, h, "My Model.Q4_K_M.gguf", gguf_bytes(tmp_path, size=1024))
    assert_error(r, 409, "CONFLICT")
    assert (tmp_path / "models" / "My_Model.Q4_K_M.gguf").read_bytes() == data  # untouched
    assert leftovers(tmp_path / "models") == []


def test_upload_names_are_sanitised(gguf_client: TestClient, tmp_path: Path) -> None:
    h = admin_headers(gguf_client)
    data = gguf_bytes(tmp_path)
    cases = {
        "../../evil.gguf": "evil.gguf",
        "%2e%2e%2fodd.gguf": "2e_2e_2fodd.gguf",
        "C:\\Windows\\win.gguf": "win.gguf",
        ".hidden.gguf": "hidden.gguf",
        "/etc/abs.gguf": "abs.gguf",
        "modèle-😀.gguf": "mod_le-_.gguf",  # UTF-8 in the part header (was a 500)
    }
    for raw, stored in cases.items():
        r = upload(gguf_client, h, raw, data)
        assert r.status_code == 200 and r.json()["filename"] == stored, (raw, r.text)
    assert model_names(tmp_path / "models") == set(cases.values())
    assert not (tmp_path / "evil.gguf").exists() and not Path("/etc/abs.gguf").exists()
    for raw in ("../../etc/passwd", "model.bin", "..gguf", ".gguf", "/.gguf"):
        assert_error(upload(gguf_client, h, raw, data), 400, "VALIDATION_ERROR")
    assert leftovers(tmp_path / "models") == []


def test_rejected_uploads_leave_nothing_behind(
    gguf_client_factory: GGUFClientFactory, tmp_path: Path
) -> None:
    client = gguf_client_factory(gguf={"max_upload_bytes": 2 * MIB})
    h = admin_headers(client)
    real = gguf_bytes(tmp_path, size=MIB)
    cases = [
        (upload(client, h, "empty.gguf", b""), 400, "VALIDATION_ERROR"),
        (upload(client, h, "text.gguf", b"hello, not a model\n" * 100), 400, "VALIDATION_ERROR"),
        (upload(client, h, "truncated.gguf", real[: len(real) // 2]), 400, "VALIDATION_ERROR"),
        (
            upload(client, h, "bad-version.gguf", b"GGUF" + b"\x63\0\0\0" + real[8:]),
            400,
            "VALIDATION_ERROR",
        ),
        (
            upload(client, h, "big.gguf", gguf_bytes(tmp_path, "big.gguf", 3 * MIB)),
            413,
            "PAYLOAD_TOO_LARGE",
        ),
        (
            client.post("/api/gguf/upload", files={"other": ("a.gguf", real)}, headers=h),
            400,
            "VALIDATION_ERROR",
        ),
        (
            client.post("/api/gguf/upload", json={"file": "x"}, headers=h),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            client.post(
                "/api/gguf/upload",
                files=[("file", ("a.gguf", real)), ("file", ("b.gguf", real))],
                headers=h,
            ),
            400,
            "VALIDATION_ERROR",
        ),
    ]
    for response, code, error in cases:
        assert_error(response, code, error)
    quota = gguf_client_factory(gguf={"max_storage_bytes": MIB // 2})  # "disk full"
    assert_error(upload(quota, h, "full.gguf", real), 507, "INSUFFICIENT_STORAGE")
    assert model_names(tmp_path / "models") == set() and leftovers(tmp_path / "models") == []


def test_upload_permissions_and_rate_limit(
    gguf_client_factory: GGUFClientFactory, tmp_path: Path
) -> None:
    client = gguf_client_factory(
        rate_limits={"enabled": True, "upload": "2/minute", "auth": "100/minute"}
    )
    data = gguf_bytes(tmp_path)
    h = admin_headers(client)  # registered first: the first account is an admin anyway
    assert_error(upload(client, user_headers(client), "u.gguf", data), 403, "PERMISSION_DENIED")
    assert upload(client, h, "a.gguf", data).status_code == 200
    assert upload(client, h, "b.gguf", data).status_code == 200
    r = upload(client, h, "c.gguf", data)
    assert_error(r, 429, "RATE_LIMITED")
    assert model_names(tmp_path / "models") == {"a.gguf", "b.gguf"}


def test_listing_reads_headers_once_and_skips_what_is_not_a_model(
    gguf_client: TestClient, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    write_gguf(models / "a.gguf", data_bytes=64 * 1024, name="A")
    (models / "broken.gguf").write_bytes(b"not gguf")
    (models / "notes.txt").write_text("x")
    (models / ".hidden.gguf").write_bytes(b"x")
    outside = write_gguf(tmp_path / "outside.gguf", name="Outside")
    (models / "link-out.gguf").symlink_to(outside)  # escapes the models dir: never listed
    h = user_headers(gguf_client)
    listed = {m["name"]: m for m in gguf_client.get("/api/gguf/local", headers=h).json()["models"]}
    assert set(listed) == {"a.gguf", "broken.gguf"}
    assert listed["a.gguf"]["model_name"] == "A" and listed["broken.gguf"]["valid"] is False
    # cached per file version: rewriting bytes without changing size/mtime is not re-read
    st = (models / "a.gguf").stat()
    write_gguf(models / "a.gguf", data_bytes=64 * 1024, name="B")
    os.utime(models / "a.gguf", ns=(st.st_atime_ns, st.st_mtime_ns))
    again = gguf_client.get("/api/gguf/local", headers=h).json()["models"]
    assert next(m for m in again if m["name"] == "a.gguf")["model_name"] == "A"
    os.utime(models / "a.gguf")  # a new version is read again
    again = gguf_client.get("/api/gguf/local", headers=h).json()["models"]
    assert next(m for m in again if m["name"] == "a.gguf")["model_name"] == "B"


def test_delete_refuses_traversal_links_and_the_bundled_model(
    gguf_client_factory: GGUFClientFactory, tmp_path: Path
) -> None:
    models = models_dir_with_bundled(tmp_path / "models")
    client = gguf_client_factory()
    h = admin_headers(client)
    outside = write_gguf(tmp_path / "outside.gguf")
    (models / "link.gguf").symlink_to(outside)
    write_gguf(models / "keep.gguf")
    for raw in (
        "..%2Foutside.gguf",
        "%2e%2e%2foutside.gguf",
        "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "..",
        "%2Fetc%2Fpasswd",
        f"{'%2F'.join(str(outside).split('/'))}",
        "link.gguf",
        "..%5Coutside.gguf",
        "keep.gguf%00",
    ):
        r = client.delete(f"/api/gguf/{raw}", headers=h)
        assert r.status_code in (400, 404), (raw, r.status_code, r.text)
    assert outside.exists() and (models / "keep.gguf").exists()
    assert_error(client.delete(f"/api/gguf/{BUNDLED_MODEL}", headers=h), 403, "PERMISSION_DENIED")
    assert (models / BUNDLED_MODEL).exists()
    assert_error(
        client.delete("/api/gguf/keep.gguf", headers=user_headers(client)), 403, "PERMISSION_DENIED"
    )
    r = client.delete("/api/gguf/keep", headers=h)  # the .gguf suffix is optional
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "success" and r.json()["message"] == "Model deleted successfully"
    assert not (models / "keep.gguf").exists() and leftovers(models) == []
    assert_error(client.delete("/api/gguf/keep.gguf", headers=h), 404, "MODEL_NOT_FOUND")


def test_delete_puts_the_file_back_when_replicas_cannot_unload(
    gguf_client_factory: GGUFClientFactory, tmp_path: Path
) -> None:
    async def failing(_name: str) -> int:
        raise RuntimeError("replica unreachable")

    client = gguf_client_factory(Runtime(gguf=GGUFRuntime(unloader=failing)))
    write_gguf(tmp_path / "models" / "m.gguf")
    r = client.delete("/api/gguf/m.gguf", headers=admin_headers(client))
    assert_error(r, 503, "SERVICE_UNAVAILABLE")
    assert (tmp_path / "models" / "m.gguf").exists() and leftovers(tmp_path / "models") == []


def test_compatibility(gguf_client: TestClient, hub: Hub, tmp_path: Path) -> None:
    h = admin_headers(gguf_client)
    tid = start(gguf_client, h, hub_url(hub, "tiny.Q4_K_M.gguf"))["task_id"]
    assert wait_done(gguf_client, h, tid)["status"] == "completed"
    r = gguf_client.get(
        "/api/gguf/compatibility/tiny.Q4_K_M.gguf", headers=user_headers(gguf_client)
    )
    assert r.status_code == 200, r.text
    body = r.json()
    for key in (
        "compatible",
        "recommended_quantization",
        "estimated_vram_mb",
        "available_vram_mb",
        "message",
    ):
        assert key in body
    assert body["compatible"] is True and body["backend"] in ("cpu", "cuda")
    assert body["available_ram_mb"] > 0 and body["estimated_vram_mb"] > 0
    # the repo offers Q2_K / Q4_K_M / Q8_0: the best that fits is the recommendation
    assert body["recommendation_source"] == "repository"
    assert body["recommended_quantization"] == "Q8_0"
    b = body["breakdown_mb"]
    assert b["total"] >= b["weights"] + b["kv_cache"] and b["runtime"] == 256
    write_gguf(tmp_path / "models" / "local.gguf", data_bytes=MIB)
    body = gguf_client.get("/api/gguf/compatibility/local", headers=h).json()
    assert body["recommendation_source"] == "estimate" and body["recommended_quantization"]
    (tmp_path / "models" / "junk.gguf").write_bytes(b"junk")
    assert_error(
        gguf_client.get("/api/gguf/compatibility/junk.gguf", headers=h), 400, "VALIDATION_ERROR"
    )
    assert_error(
        gguf_client.get("/api/gguf/compatibility/missing.gguf", headers=h), 404, "MODEL_NOT_FOUND"
    )
    assert gguf_client.get(
        "/api/gguf/compatibility/..%2F..%2Fetc%2Fpasswd", headers=h
    ).status_code in (400, 404)
