"""Schemathesis against the in-process app (#13): every operation of /openapi.json, data
valid and invalid by the schema, as a logged-in user and as an admin.

The run fails on any 5xx, on an error body outside the contract ``{detail, error_code,
timestamp}`` (+ ``fields``, ``request_id``), on any answer that breaks the published schema
(status, content type, headers, body), on invalid data accepted, and on valid data refused
with a 400 unless the refusal is one the schema cannot express (SEMANTIC_REFUSALS).
Deterministic (hypothesis ``derandomize``, no example database) and bounded
(``LMWEBUI_FUZZ_EXAMPLES`` examples per operation, mode and identity). The chat engine is
the scripted one and RAG the fake workers: no model loads.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import unregister_string_format
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lmwebui.api.responses import ErrorBody
from tests.support.api import login_as
from tests.support.app import app_client, make_settings
from tests.support.engines import ScriptedEngine
from tests.support.fake_rag import fake_rag_runtime

MAX_EXAMPLES = int(os.environ.get("LMWEBUI_FUZZ_EXAMPLES", "8"))
ERROR_KEYS = set(ErrorBody.model_fields)
REQUIRED_ERROR_KEYS = {"detail", "error_code", "timestamp"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Valid by the schema, refused by what the server knows beyond it: (operation, detail).
SEMANTIC_REFUSALS = [
    # which providers are deployed, and what their engine can do, is configuration
    ("POST /api/chat", r"is not enabled on this server"),
    ("POST /api/chat/stream/start", r"is not enabled on this server"),
    ("POST /v1/chat/completions", r"is not (enabled on this server|supported by provider)"),
    ("POST /v1/completions", r"is not (enabled on this server|supported by provider)"),
    # rules across fields: the tool_choice names one of the tools; a json_schema comes
    # with (and only with) response_format type json_schema; top_logprobs needs logprobs;
    # /v1/completions' logprobs not with echo
    ("POST /v1/chat/completions", r"tool_choice|json_schema is required|top_logprobs requires"),
    ("POST /v1/completions", r"logprobs with echo"),
    # a hub reference is parsed (owner/repo[@rev][:file] or a URL of the configured hub)
    ("POST /api/gguf/resolve", r"^Invalid (repository id|revision|file path|hub URL)|^Not a "),
    ("POST /api/gguf/download", r"URL"),
    # a multipart file: its name and its content are checked, not describable in the schema
    ("POST /api/gguf/upload", r"\.gguf|GGUF|empty"),
    ("POST /api/rag/ingest", r"empty|type|format"),
    ("POST /api/upload/image", r"empty|image"),
    ("POST /api/upload/document", r"empty|type|format"),
    # the embedding model's own dimension
    ("POST /v1/embeddings", r"^dimensions must be"),
]
# Valid by the schema, refused for the content of an upload (sniffed type, size).
CONTENT_STATUSES = {413, 415}
IDENTITIES = {"user": "fuzz-user@example.com", "admin": "fuzz-admin@example.com"}


@dataclass
class Run:
    client: TestClient
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    requests: int = 0

    def login(self, who: str) -> None:
        self.headers[who] = login_as(self.client, IDENTITIES[who])


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    base = tmp_path_factory.mktemp("fuzz")
    config = make_settings(
        base,
        rate_limits={"enabled": False},
        gguf={"hub_endpoint": "http://127.0.0.1:9", "hub_timeout_s": 1, "max_retries": 0},
    )
    # the server's e-mail check is stricter than JSON Schema's "email" format
    schemathesis.openapi.format("email", st.from_regex(r"[a-z]{1,12}@example\.com", fullmatch=True))
    try:
        with app_client(config, fake_rag_runtime({"gguf": ScriptedEngine(["Hi."])})) as client:
            state = Run(client)
            state.login("admin")  # the first account: the admin
            state.login("user")
            yield state
    finally:
        unregister_string_format("email")


def _error_body_problem(response: Any) -> str | None:
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return f"error body is not JSON: {response.text[:120]!r}"
    if not isinstance(body, dict):
        return f"error body is not an object: {body!r:.120}"
    missing, extra = REQUIRED_ERROR_KEYS - body.keys(), body.keys() - ERROR_KEYS
    if missing or extra:
        return f"error body keys: missing {sorted(missing)}, unexpected {sorted(extra)}"
    return None


def _acceptance_problem(label: str, case: Case, response: Any) -> str | None:
    """Valid data refused: a 400 the schema could have announced."""
    assert case.meta is not None
    if not case.meta.generation.mode.is_positive:
        return None
    status = response.status_code
    if status == 400:
        detail = str(response.json().get("detail", ""))
        if any(op == label and re.search(rx, detail) for op, rx in SEMANTIC_REFUSALS):
            return None
        return f"schema-valid request refused: {detail[:200]}"
    if status in CONTENT_STATUSES and "multipart/form-data" in str(case.media_type):
        return None
    if status in CONTENT_STATUSES:
        return f"schema-valid request refused with {status}"
    return None


def _send(run: Run, case: Case, who: str) -> Any:
    """The case as the client sends it; None when the client cannot encode it (a negative
    multipart case whose "file" is a number never reaches the server)."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=run.headers[who])
    for key in ("base_url", "verify", "allow_redirects"):
        kwargs.pop(key, None)
    if not kwargs.get("cookies"):
        kwargs.pop("cookies", None)
    method, url = kwargs.pop("method"), kwargs.pop("url")
    request = run.client.build_request(method, url, **kwargs)
    try:
        request.read()
    except (TypeError, AttributeError, ValueError):
        if "files" not in kwargs:
            raise
        return None
    response = run.client.send(request)
    run.requests += 1
    run.client.cookies.clear()  # the identity is the Bearer header alone
    if (method, case.operation.path) in {("POST", "/api/auth/logout"), ("DELETE", "/api/auth/me")}:
        run.login(who)  # the session (or the account) is gone: log in again
    return response


def _fuzz(run: Run, operation: Any, mode: GenerationMode, who: str) -> None:
    label = f"{operation.method.upper()} {operation.path}"

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def one(case: Case) -> None:
        response = _send(run, case, who)
        if response is None:
            return
        problems = [_error_body_problem(response), _acceptance_problem(label, case, response)]
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseException as exc:  # schemathesis raises a FailureGroup (BaseExceptionGroup)
            problems.append(" / ".join(str(exc).strip().splitlines()[:3]))
        for problem in filter(None, problems):
            run.failures.append(
                f"{label} [{mode.value}, {who}] {response.status_code}: {problem}\n"
                f"    {case.as_curl_command()[:300]}"
            )

    with contextlib.suppress(Unsatisfiable):  # nothing to negate (no parameters)
        one()


def test_every_operation_under_fuzzing(run: Run) -> None:
    schema = schemathesis.openapi.from_dict(run.client.get("/openapi.json").json())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for who in IDENTITIES:
                _fuzz(run, operation, mode, who)
    unique = sorted(set(run.failures))
    report = "\n".join(unique[:40])
    assert not unique, f"{len(unique)} problems in {run.requests} requests:\n{report}"
    assert run.requests > len(operations) * MAX_EXAMPLES
