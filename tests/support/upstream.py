"""A local OpenAI-compatible upstream on 127.0.0.1: records every request it receives and
answers either a short streamed completion or a scripted error."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

UPSTREAM_SECRET_TEXT = "upstream-internal-detail-7f3a"  # must never reach a platform client
ANSWER = "Hello from upstream"
MODEL_CARD = {"id": "gpt-4o-mini", "object": "model", "created": 1, "owned_by": "upstream"}


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class FakeUpstream:
    url: str  # the /v1 base URL
    port: int
    received: list[Received] = field(default_factory=list)
    # (status, extra headers) of the scripted failure; None answers a completion
    failure: tuple[int, dict[str, str]] | None = None
    redirect_to: str | None = None
    # the streamed answer as (delta, finish_reason) pairs; None: ANSWER as text
    script: list[tuple[dict[str, Any], str | None]] | None = None
    # seconds between streamed chunks (0: the whole answer in one write)
    chunk_delay: float = 0.0
    # route prefix ("/vllm-1") -> the one model GET <prefix>/v1/models lists (empty: MODEL_CARD)
    models_by_route: dict[str, str] = field(default_factory=dict)

    def fail_with(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.failure = (status, headers or {})


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


def _handler(state: FakeUpstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _record(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            state.received.append(
                Received(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
            )

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path.endswith("/models") and state.failure is None and not state.redirect_to:
                self._record()
                cards = [
                    {**MODEL_CARD, "id": model}
                    for route, model in state.models_by_route.items()
                    if self.path.startswith(route + "/")
                ]
                listing = {"object": "list", "data": cards or [MODEL_CARD]}
                self._send(200, json.dumps(listing).encode(), {"Content-Type": "application/json"})
                return
            self.do_POST()

        def do_POST(self) -> None:
            self._record()
            if state.redirect_to is not None:
                self._send(307, b"", {"Location": state.redirect_to})
            elif state.failure is not None:
                status, headers = state.failure
                error = {"message": f"{UPSTREAM_SECRET_TEXT} key sk-upstream", "type": "x"}
                self._send(
                    status,
                    json.dumps({"error": error}).encode(),
                    {"Content-Type": "application/json", **headers},
                )
            else:
                script = state.script or [({"role": "assistant", "content": ANSWER}, None)]
                chunks = [_chunk(d, f) for d, f in script]
                chunks += [] if state.script else [_chunk({}, "stop")]
                chunks.append("data: [DONE]\n\n")
                if state.chunk_delay > 0:
                    self._pace(chunks, state.chunk_delay)
                else:
                    self._send(200, "".join(chunks).encode(), {"Content-Type": "text/event-stream"})

        def _pace(self, chunks: list[str], delay: float) -> None:
            """One chunk every ``delay`` seconds (a close-delimited HTTP/1.0 body)."""
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            try:
                for chunk in chunks:
                    self.wfile.write(chunk.encode())
                    self.wfile.flush()
                    time.sleep(delay)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the platform stopped reading (a cancelled turn)

    return Handler


@contextmanager
def fake_upstream() -> Iterator[FakeUpstream]:
    state = FakeUpstream(url="", port=0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = server.server_address[1]
    state.url = f"http://127.0.0.1:{state.port}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
