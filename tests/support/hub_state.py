"""State of the local test hub: faults, the request log, file hashes, repo commits."""

from __future__ import annotations

import hashlib
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class FileFault:
    drop_after: int | None = None  # close the connection after this many body bytes
    stall_after: int | None = None  # then sleep stall_s
    stall_s: float = 0.0
    gate_after: int | None = None  # then wait until Hub.release() (or the client leaves)
    corrupt: bool = False  # flip one byte (the metadata keeps the true sha256)
    status: int | None = None  # answer this status instead of the file
    redirect_to: str | None = None  # 302 to this URL
    ignore_range: bool = False
    times: int | None = None  # apply to this many requests, then vanish (None: always)


@dataclass
class LogEntry:
    method: str
    path: str
    range_start: int | None
    status: int
    sent: int


@dataclass
class HubState:
    root: Path
    rate_bps: float | None = None
    faults: dict[str, FileFault] = field(default_factory=dict)  # repo-relative "o/r/file"
    api_status: int | None = None
    api_stall_s: float = 0.0
    log: list[LogEntry] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _sha: dict[str, tuple[tuple[int, int], str]] = field(default_factory=dict)

    def sha256(self, path: Path) -> str:
        st = path.stat()
        key = str(path)
        stamp = (st.st_size, st.st_mtime_ns)
        with self.lock:
            hit = self._sha.get(key)
        if hit and hit[0] == stamp:
            return hit[1]
        h = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(8 * 1024 * 1024):
                h.update(chunk)
        with self.lock:
            self._sha[key] = (stamp, h.hexdigest())
        return h.hexdigest()

    def take_fault(self, key: str) -> FileFault | None:
        with self.lock:
            fault = self.faults.get(key)
            if fault is None:
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self.faults[key]
            return fault


def repo_commit(repo_dir: Path) -> str:
    h = hashlib.sha1()
    for p in sorted(repo_dir.rglob("*")):
        if p.is_file():
            st = p.stat()
            h.update(f"{p.relative_to(repo_dir)}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


def is_lfs(path: Path) -> bool:
    return path.suffix == ".gguf" or path.stat().st_size > 10 * 1024 * 1024


def peer_gone(conn: socket.socket) -> bool:
    try:
        conn.setblocking(False)
        try:
            return conn.recv(1, socket.MSG_PEEK) == b""
        finally:
            conn.setblocking(True)
    except BlockingIOError:
        return False
    except OSError:
        return True
