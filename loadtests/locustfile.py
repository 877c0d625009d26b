"""Realistic lmwebui traffic: browse, chat over WebSocket with the real model, RAG search.

    make loadtest                       # starts the platform, runs headless, writes reports
    .venv/bin/locust -f loadtests/locustfile.py --host http://127.0.0.1:8000

Rate limits are per user/address: run the target with generous limits
(loadtests/run_locust.py does) or the auth limit (10/min) turns most logins into 429s.
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtests.wsclient import chat_turn_sync, ws_chat_url

PROMPTS = [
    "Say hello in one short sentence.",
    "Name three colours.",
    "What is the capital of France?",
    "Write a haiku about the sea.",
    "Count from one to five.",
]


class PlatformUser(HttpUser):
    abstract = True
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.email = f"load-{uuid.uuid4().hex[:10]}@example.com"
        body = {"email": self.email, "password": "password123"}
        token = ""
        # like a real client, retry a retryable answer (503/429 with Retry-After); every
        # failed attempt still counts as a failure in the report
        for _ in range(3):
            r = self.client.post("/api/auth/register", json=body, name="/api/auth/register")
            if r.status_code in (201, 409):
                break
            time.sleep(float(r.headers.get("Retry-After", "1")))
        for _ in range(3):
            r = self.client.post("/api/auth/login", json=body, name="/api/auth/login")
            if r.ok:
                token = r.json().get("access_token", "")
                break
            time.sleep(float(r.headers.get("Retry-After", "1")))
        self.auth = {"Authorization": f"Bearer {token}"}
        self.conversation_id: str | None = None


class BrowsingUser(PlatformUser):
    weight = 3

    @task(4)
    def conversations(self) -> None:
        r = self.client.get(
            "/api/conversations?limit=20", headers=self.auth, name="/api/conversations"
        )
        convs = r.json().get("conversations", []) if r.ok else []
        if convs:
            self.client.get(
                f"/api/conversations/{convs[0]['id']}",
                headers=self.auth,
                name="/api/conversations/{id}",
            )

    @task(2)
    def models(self) -> None:
        self.client.get("/v1/models", headers=self.auth, name="/v1/models")
        self.client.get("/api/gguf/local", headers=self.auth, name="/api/gguf/local")

    @task(1)
    def health(self) -> None:
        self.client.get("/api/health", name="/api/health")
        self.client.get("/api/system/info", headers=self.auth, name="/api/system/info")


class ChatUser(PlatformUser):
    weight = 2

    def _ws_url(self) -> str:
        return ws_chat_url(self.host or "")

    @task(3)
    def chat_stream(self) -> None:
        data: dict[str, Any] = {
            "message": PROMPTS[int(time.time()) % len(PROMPTS)],
            "max_tokens": 32,
        }
        if self.conversation_id:
            data["conversation_id"] = self.conversation_id
        start = time.perf_counter()
        ttft = None
        error: Exception | None = None
        size = 0
        try:
            turn = chat_turn_sync(self._ws_url(), self.auth, data, recv_timeout=120)
            if turn.tokens:  # from the start of the request, connecting included
                ttft = (turn.connect_s + turn.ttft_s) * 1000
            if not turn.ok:
                raise RuntimeError(turn.error_code or turn.outcome)
            self.conversation_id = turn.conversation_id
            size = len(turn.content)
        except Exception as exc:
            error = exc
        total = (time.perf_counter() - start) * 1000
        events.request.fire(
            request_type="WS",
            name="chat stream (total)",
            response_time=total,
            response_length=size,
            exception=error,
            context={},
        )
        if ttft is not None:
            events.request.fire(
                request_type="WS",
                name="chat stream (TTFT)",
                response_time=ttft,
                response_length=0,
                exception=None,
                context={},
            )

    @task(1)
    def chat_rest(self) -> None:
        self.client.post(
            "/api/chat",
            headers=self.auth,
            name="/api/chat",
            json={"message": PROMPTS[0], "max_tokens": 16},
        )


NOTES = (
    "Harbour committee notes. The renovation budget is 4.2 million euros, split between "
    "dredging, the lighthouse repairs and the new visitor centre. Dredging permits are "
    "expected in March; the ferry schedule changes during the works."
)


class RagUser(PlatformUser):
    weight = 1

    def on_start(self) -> None:
        super().on_start()
        # every RAG user searches its own document (results are per user)
        self.client.post(
            "/api/rag/ingest",
            headers=self.auth,
            files={"file": ("harbour.txt", NOTES.encode(), "text/plain")},
            name="/api/rag/ingest",
        )

    @task
    def search(self) -> None:
        self.client.get(
            "/api/rag/search?query=harbour%20budget&limit=5",
            headers=self.auth,
            name="/api/rag/search",
        )
