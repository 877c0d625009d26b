"""/openapi.json (what /docs shows) describes what is really sent: a response model on every
operation, the error contract instead of FastAPI's 422, and the chat answer's fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.app import app_client, make_settings


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = make_settings(tmp_path_factory.mktemp("openapi"))
    with app_client(settings) as client:
        r = client.get("/openapi.json")
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, ops in spec["paths"].items() for m, op in ops.items()]


def test_every_operation_declares_its_success_body(spec: dict[str, Any]) -> None:
    missing = []
    for method, path, op in operations(spec):
        ok = [v for k, v in op["responses"].items() if k.startswith("2")]
        refs = [r.get("content", {}).get("application/json", {}).get("schema", {}) for r in ok]
        if not any("$ref" in s for s in refs):
            missing.append(f"{method} {path}")
    assert missing == []
    assert len(operations(spec)) >= 40


def test_errors_are_the_error_contract_not_422(spec: dict[str, Any]) -> None:
    body = spec["components"]["schemas"]["ErrorBody"]
    assert {"detail", "error_code", "timestamp"} <= set(body["required"])
    for method, path, op in operations(spec):
        assert "422" not in op["responses"], f"{method} {path}"
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, f"{method} {path}"
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_chat_answer_schema_lists_its_fields(spec: dict[str, Any]) -> None:
    """The chat answer leaves unset optional fields out when it is sent; the schema still
    names every field (the serializer that drops them must not hide them from /docs)."""
    chat = spec["components"]["schemas"]["ChatResponse"]
    assert {"response", "conversation_id", "tokens_used", "processing_time"} <= set(
        chat["properties"]
    )
    assert {"reasoning_steps", "raw_response", "citations"} <= set(chat["properties"])


def test_docs_page_is_served(tmp_path: Path) -> None:
    with app_client(make_settings(tmp_path)) as client:
        r = client.get("/docs")
    assert r.status_code == 200 and "swagger" in r.text.lower()
