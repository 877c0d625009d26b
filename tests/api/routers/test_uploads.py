"""/api/upload/image and /api/upload/document with real OCR and docling; what every
upload route answers alike (the one multipart receiver)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator

from fastapi.testclient import TestClient

from tests.documents import samples as S
from tests.support.api import assert_error, login_as
from tests.support.app import ClientFactory
from tests.support.rag import RagWorkers


def upload(client: TestClient, h: dict[str, str], kind: str, name: str, data: bytes) -> object:
    return client.post(
        f"/api/upload/{kind}", files={"file": (name, data, "application/x-any")}, headers=h
    )


def test_image_upload_returns_data_url_metadata_and_ocr(rag_client: TestClient) -> None:
    h = login_as(rag_client, "img@example.com")
    img = S.text_image(["Platform 9 departs at 14:05", "Gate B17"])
    png = S.image_bytes(img)
    r = upload(rag_client, h, "image", "ticket.png", png)
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["file_id"].startswith("img_") and body["type"] == "image"
    assert body["filename"] == "ticket.png"
    prefix = "data:image/png;base64,"
    assert body["data"].startswith(prefix)
    assert base64.b64decode(body["data"][len(prefix) :]) == png
    assert body["metadata"] == {
        "width": img.width,
        "height": img.height,
        "format": "PNG",
        "size_bytes": len(png),
    }
    assert "14:05" in body["ocr_text"] and "B17" in body["ocr_text"]
    jpeg = upload(rag_client, h, "image", "photo.jpeg", S.image_bytes(img, "JPEG")).json()  # type: ignore[attr-defined]
    assert (
        jpeg["data"].startswith("data:image/jpeg;base64,") and jpeg["metadata"]["format"] == "JPEG"
    )


def test_image_upload_bad_inputs(rag_client: TestClient) -> None:
    h = login_as(rag_client, "imgbad@example.com")
    assert_error(
        upload(rag_client, h, "image", "x.png", S.text_pdf([["x"]])), 415, "UNSUPPORTED_MEDIA_TYPE"
    )
    assert_error(
        upload(rag_client, h, "image", "big.png", S.png_bomb(20000)), 413, "PAYLOAD_TOO_LARGE"
    )
    assert_error(upload(rag_client, h, "image", "e.png", b""), 400, "VALIDATION_ERROR")
    truncated = S.image_bytes(S.text_image(["cut"]))[:300]
    assert_error(upload(rag_client, h, "image", "cut.png", truncated), 400, "VALIDATION_ERROR")
    r = rag_client.post("/api/upload/image", files={"other": ("a.png", b"x")}, headers=h)
    assert_error(r, 400, "VALIDATION_ERROR")


def test_document_upload_returns_text(rag_client: TestClient) -> None:
    h = login_as(rag_client, "doc@example.com")
    data = S.docx([("Summary", ["Net profit rose to 3.2 million."]), ("Outlook", ["Stable."])])
    body = upload(rag_client, h, "document", "q3.docx", data).json()  # type: ignore[attr-defined]
    assert body["file_id"].startswith("doc_") and body["type"] == "document"
    assert body["text"] == "# Summary\n\nNet profit rose to 3.2 million.\n\n# Outlook\n\nStable."
    assert body["metadata"]["pages"] == 1 and body["metadata"]["size_bytes"] == len(data)
    assert body["metadata"]["truncated"] is False
    pdf = S.text_pdf([["first page"], ["second page"], ["third page"]])
    body = upload(rag_client, h, "document", "p.pdf", pdf).json()  # type: ignore[attr-defined]
    assert body["metadata"]["pages"] == 3 and "third page" in body["text"]
    scan = S.scanned_pdf([S.text_image(["Handwritten note: call Alice"])])
    body = upload(rag_client, h, "document", "scan.pdf", scan).json()  # type: ignore[attr-defined]
    assert "Alice" in body["text"] and body["metadata"]["ocr_pages"] == [1]
    # nothing of this is searchable: upload/document does not ingest
    r = rag_client.get("/api/rag/search", params={"query": "Alice"}, headers=h)
    assert r.json()["results"] == []


def test_document_upload_bad_inputs(rag_client: TestClient) -> None:
    h = login_as(rag_client, "docbad@example.com")
    assert_error(
        upload(rag_client, h, "document", "a.exe", b"\x7fELF" + bytes(range(256)) * 4),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    assert_error(
        upload(rag_client, h, "document", "bomb.docx", S.docx_bomb(300)), 413, "PAYLOAD_TOO_LARGE"
    )
    locked = S.text_pdf([["x"]], encrypt=True)
    assert_error(upload(rag_client, h, "document", "l.pdf", locked), 400, "VALIDATION_ERROR")
    r = rag_client.post(
        "/api/upload/document",
        content=b"--B\r\nbroken",
        headers={**h, "Content-Type": "multipart/form-data; boundary=B"},
    )
    assert_error(r, 400, "VALIDATION_ERROR")


def test_truncation_and_size_limits(client_factory: ClientFactory, rag_workers: RagWorkers) -> None:
    c = client_factory(
        runtime=rag_workers.runtime(),
        rate_limits={"enabled": False},
        rag={"upload_text_chars": 50, "max_image_bytes": 5000},
    )
    h = login_as(c, "trunc@example.com")
    body = upload(c, h, "document", "long.txt", b"All work and no play. " * 20).json()  # type: ignore[attr-defined]
    assert body["metadata"]["truncated"] is True and len(body["text"]) == 50
    big = S.image_bytes(S.text_image(["x" * 50] * 10))
    assert len(big) > 5000
    assert_error(upload(c, h, "image", "big.png", big), 413, "PAYLOAD_TOO_LARGE")


UPLOAD_ROUTES = ("/api/upload/image", "/api/upload/document", "/api/rag/ingest", "/api/gguf/upload")


def streamed(filename: str, size: int) -> Iterator[bytes]:
    """A multipart body in chunks and without a Content-Length: only the streaming
    receiver can stop it."""
    disposition = f'Content-Disposition: form-data; name="file"; filename="{filename}"'
    yield f"--XyZ\r\n{disposition}\r\n\r\n".encode()
    for _ in range(size // 1000):
        yield b"x" * 1000
    yield b"\r\n--XyZ--\r\n"


def test_every_upload_route_answers_alike(
    gguf_client_factory: Callable[..., TestClient], rag_workers: RagWorkers
) -> None:
    """One receiver behind the four upload routes: 415 for a body that is not
    multipart/form-data, 400 without a ``file`` part, 413 past the limit (announced by
    Content-Length or found while streaming), and no part file left behind."""
    limit = 10_000
    c = gguf_client_factory(
        runtime=rag_workers.runtime(),
        rag={"max_upload_bytes": limit, "max_image_bytes": limit},
        gguf={"max_upload_bytes": limit},
    )
    h = login_as(c, "admin@example.com")  # an admin: /api/gguf/upload is for admins
    for url in UPLOAD_ROUTES:
        for wrong in (
            c.post(url, json={"file": "x"}, headers=h),
            c.post(url, data={"file": "x"}, headers=h),  # urlencoded
            c.post(url, content=b"GGUF", headers={**h, "Content-Type": "application/x-gguf"}),
            c.post(url, content=b"x", headers={**h, "Content-Type": "multipart/form-data"}),
        ):
            assert_error(wrong, 415, "UNSUPPORTED_MEDIA_TYPE")
        for no_file in (
            c.post(url, files={"other": ("a.gguf", b"GGUF")}, headers=h),
            c.post(url, data={"file": "text"}, files={"other": ("a.gguf", b"x")}, headers=h),
        ):
            assert_error(no_file, 400, "VALIDATION_ERROR")
        for too_large in (
            c.post(url, files={"file": ("big.gguf", b"x" * (limit + 1))}, headers=h),
            c.post(url, files={"file": ("big.gguf", b"x" * (limit + 100_000))}, headers=h),
            c.post(
                url,
                content=streamed("big.gguf", 100 * limit),
                headers={**h, "Content-Type": "multipart/form-data; boundary=XyZ"},
            ),
        ):
            assert_error(too_large, 413, "PAYLOAD_TOO_LARGE")
    settings = c.app.state.services.settings  # type: ignore[attr-defined]
    models = settings.resolved_models_dir
    for folder in (settings.data_dir / "uploads", models / ".uploads"):
        assert not folder.exists() or list(folder.iterdir()) == [], folder
    assert not (models / "big.gguf").exists()
