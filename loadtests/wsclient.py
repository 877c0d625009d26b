"""The WebSocket chat-turn client every benchmark uses (/ws/chat, asyncio and sync flavours).

    result = await chat_turn(ws_chat_url(server.url), headers, {"message": "Hi"})
    result.ttft_s, result.tokens, result.completion_tokens, result.conversation_id, ...

A turn is: send ``start_stream``, read events until ``final_answer``, ``error`` or
``cancelled``. Times are measured from sending ``start_stream`` (``connect_s`` is the
handshake before it). ``AsyncChatClient`` / ``SyncChatClient`` keep one socket open for
several turns or a cancel.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import websockets
from websockets.sync.client import connect as sync_connect

TERMINAL = ("final_answer", "error", "cancelled")
Event = dict[str, Any]
# called once, at the first token_update, with the time to first token in seconds
FirstToken = Callable[[float], None]


def ws_chat_url(base_url: str) -> str:
    """http(s)://host:port → ws(s)://host:port/ws/chat."""
    return base_url.replace("http://", "ws://").replace("https://", "wss://") + "/ws/chat"


def start_frame(data: dict[str, Any]) -> str:
    return json.dumps({"action": "start_stream", "data": data})


def cancel_frame(session_id: str | None) -> str:
    return json.dumps({"action": "cancel_session", "data": {"session_id": session_id}})


@dataclass
class TurnResult:
    outcome: str  # final_answer | error | cancelled
    ttft_s: float  # start_stream sent → first token_update (0 when there was none)
    decode_s: float  # first → last token_update
    total_s: float  # start_stream sent → the terminal event
    tokens: int  # token_update events received
    completion_tokens: int  # the final answer's count (0 unless completed)
    conversation_id: str | None
    session_id: str | None
    content: str
    event: Event  # the terminal event as received
    connect_s: float = 0.0  # the WebSocket handshake (chat_turn / chat_turn_sync only)

    @property
    def ok(self) -> bool:
        return self.outcome == "final_answer"

    @property
    def error_code(self) -> str | None:
        code = self.event.get("error_code")
        return str(code) if code is not None else None

    @property
    def error(self) -> str | None:
        """What went wrong (the error text, else the outcome); None for a completed turn."""
        return None if self.ok else str(self.event.get("error", self.outcome))


class _Turn:
    """Folds one turn's events into a TurnResult."""

    def __init__(self, on_first_token: FirstToken | None) -> None:
        self.on_first_token = on_first_token
        self.t0 = time.perf_counter()
        self.first = self.last = 0.0
        self.tokens = 0

    def feed(self, ev: Event) -> TurnResult | None:
        now = time.perf_counter()
        kind = ev.get("type")
        if kind == "token_update":
            self.tokens += 1
            if not self.first:
                self.first = now
                if self.on_first_token is not None:
                    self.on_first_token(now - self.t0)
            self.last = now
            return None
        if kind not in TERMINAL:
            return None
        done = kind == "final_answer"
        return TurnResult(
            outcome=str(kind),
            ttft_s=self.first - self.t0 if self.first else 0.0,
            decode_s=self.last - self.first,
            total_s=now - self.t0,
            tokens=self.tokens,
            completion_tokens=int(ev.get("completion_tokens", 0)) if done else 0,
            conversation_id=ev.get("conversation_id"),
            session_id=ev.get("session_id"),
            content=str(ev.get("content", "")) if done else "",
            event=ev,
        )


class AsyncChatClient:
    """One open /ws/chat socket (asyncio)."""

    def __init__(self, ws: Any, recv_timeout: float | None = None) -> None:
        self.ws = ws
        self.recv_timeout = recv_timeout

    @classmethod
    @asynccontextmanager
    async def connect(
        cls,
        url: str,
        headers: dict[str, str],
        *,
        open_timeout: float = 30,
        recv_timeout: float | None = None,
    ) -> AsyncIterator[AsyncChatClient]:
        async with websockets.connect(
            url, additional_headers=headers, open_timeout=open_timeout, max_size=None
        ) as ws:
            yield cls(ws, recv_timeout)

    async def recv(self) -> Event:
        raw = await asyncio.wait_for(self.ws.recv(), self.recv_timeout)
        event: Event = json.loads(raw)
        return event

    async def start(self, data: dict[str, Any]) -> None:
        await self.ws.send(start_frame(data))

    async def cancel(self, session_id: str | None) -> None:
        await self.ws.send(cancel_frame(session_id))

    async def wait_for(self, *types: str) -> Event:
        """Read events until one of these types; returns it."""
        while True:
            ev = await self.recv()
            if ev.get("type") in types:
                return ev

    async def turn(
        self, data: dict[str, Any], on_first_token: FirstToken | None = None
    ) -> TurnResult:
        await self.start(data)
        turn = _Turn(on_first_token)
        while True:
            result = turn.feed(await self.recv())
            if result is not None:
                return result


async def chat_turn(
    url: str,
    headers: dict[str, str],
    data: dict[str, Any],
    *,
    recv_timeout: float | None = None,
    on_first_token: FirstToken | None = None,
) -> TurnResult:
    """One turn on a fresh socket."""
    t0 = time.perf_counter()
    async with AsyncChatClient.connect(url, headers, recv_timeout=recv_timeout) as client:
        connect_s = time.perf_counter() - t0
        result = await client.turn(data, on_first_token)
    result.connect_s = connect_s
    return result


class SyncChatClient:
    """One open /ws/chat socket (blocking; for locust and probe threads)."""

    def __init__(self, ws: Any, recv_timeout: float | None = None) -> None:
        self.ws = ws
        self.recv_timeout = recv_timeout

    @classmethod
    @contextmanager
    def connect(
        cls,
        url: str,
        headers: dict[str, str],
        *,
        open_timeout: float = 30,
        recv_timeout: float | None = None,
    ) -> Iterator[SyncChatClient]:
        with sync_connect(
            url, additional_headers=headers, open_timeout=open_timeout, max_size=None
        ) as ws:
            yield cls(ws, recv_timeout)

    def recv(self) -> Event:
        event: Event = json.loads(self.ws.recv(timeout=self.recv_timeout))
        return event

    def start(self, data: dict[str, Any]) -> None:
        self.ws.send(start_frame(data))

    def cancel(self, session_id: str | None) -> None:
        self.ws.send(cancel_frame(session_id))

    def wait_for(self, *types: str) -> Event:
        while True:
            ev = self.recv()
            if ev.get("type") in types:
                return ev

    def turn(self, data: dict[str, Any], on_first_token: FirstToken | None = None) -> TurnResult:
        self.start(data)
        turn = _Turn(on_first_token)
        while True:
            result = turn.feed(self.recv())
            if result is not None:
                return result


def chat_turn_sync(
    url: str,
    headers: dict[str, str],
    data: dict[str, Any],
    *,
    open_timeout: float = 30,
    recv_timeout: float | None = 120,
    on_first_token: FirstToken | None = None,
) -> TurnResult:
    """One turn on a fresh socket, blocking."""
    t0 = time.perf_counter()
    with SyncChatClient.connect(
        url, headers, open_timeout=open_timeout, recv_timeout=recv_timeout
    ) as client:
        connect_s = time.perf_counter() - t0
        result = client.turn(data, on_first_token)
    result.connect_s = connect_s
    return result
