"""/ws/gguf/download/{task_id}: live progress of one download (any ingress replica).

The socket long-polls the DownloadManager (``watch``) and turns each new task snapshot into
an event: ``progress`` while it runs, then one of ``completed`` / ``error`` / ``cancelled``,
after which the server closes the socket (1000). Client frames: ``{"action": "cancel"}``,
``{"action": "status"}``, ``{"action": "ping"}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from lmwebui.api.ws.connection import (
    POLICY_VIOLATION,
    EventSocket,
    accept_socket,
    ws_error_event,
)
from lmwebui.api.ws.frames import FrameError, parse_frame
from lmwebui.auth.service import CurrentUser
from lmwebui.errors import AppError, ValidationFailed
from lmwebui.models.download_task import TERMINAL, event_for
from lmwebui.models.management import GGUFService

router = APIRouter()
logger = logging.getLogger("lmwebui.ws.downloads")
WATCH_TIMEOUT_S = 10.0
MANAGER_GRACE_S = 120.0  # how long the socket waits for a restarting DownloadManager


class DownloadSocket(EventSocket):
    def __init__(self, ws: WebSocket, gguf: GGUFService, user: CurrentUser, task_id: str):
        super().__init__(ws)
        self.gguf = gguf
        self.user = user
        self.task_id = task_id

    async def error(self, exc: BaseException, **envelope: Any) -> None:
        await self.send({**ws_error_event(exc), "task_id": self.task_id}, **envelope)

    async def run(self) -> None:
        try:
            snap = await self.gguf.task(self.user, self.task_id)
        except AppError as exc:
            await self.error(exc)
            await self.ws.close(code=POLICY_VIOLATION)
            return
        reader = asyncio.create_task(self.read_frames())
        try:
            await self.follow(snap)
        except WebSocketDisconnect:
            pass
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        with contextlib.suppress(Exception):
            await self.ws.close()

    async def follow(self, snap: dict[str, Any]) -> None:
        while True:
            await self.send(event_for(snap))
            if snap["status"] in TERMINAL:
                return
            snap = await self.next_snapshot(snap["version"])

    async def next_snapshot(self, version: int) -> dict[str, Any]:
        deadline = time.monotonic() + MANAGER_GRACE_S
        while True:
            try:
                snap = await self.gguf.watch(self.task_id, version, WATCH_TIMEOUT_S)
            except AppError as exc:
                if time.monotonic() > deadline:
                    raise WebSocketDisconnect(code=1011) from exc
                await asyncio.sleep(1.0)  # the manager actor is restarting
                continue
            if snap is None:
                raise WebSocketDisconnect(code=1011)
            if snap["version"] != version:
                return snap

    async def read_frames(self) -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                text = await self.ws.receive_text()
                await self.handle_frame(text)

    async def handle_frame(self, text: str) -> None:
        try:
            action, _data = parse_frame(text)
        except FrameError as exc:
            await self.error(ValidationFailed(str(exc)))
            return
        try:
            if action in ("cancel", "cancel_download"):
                await self.gguf.cancel(self.user, self.task_id)  # follow() sends `cancelled`
            elif action == "status":
                await self.send(event_for(await self.gguf.task(self.user, self.task_id)))
            elif action == "ping":
                await self.send({"type": "pong", "task_id": self.task_id})
            else:
                await self.error(ValidationFailed(f"Unknown action '{action}'"))
        except AppError as exc:
            await self.error(exc)


@router.websocket("/ws/gguf/download/{task_id}")
async def ws_download(ws: WebSocket, task_id: str) -> None:
    if (opened := await accept_socket(ws)) is not None:
        services, user = opened
        await DownloadSocket(ws, services.gguf, user, task_id).run()
