"""A local stand-in for the Hugging Face Hub: the subset of its HTTP API huggingface_hub uses.

Serves ``<root>/<owner>/<repo>/<files...>`` at revision ``main`` (and at its commit id):

- ``GET /api/models/{repo}[/revision/{rev}]`` (``?blobs=true``: sizes + LFS sha256)
- ``GET /api/models/{repo}/tree/{rev}[/{path}]`` (``recursive``) and
  ``POST /api/models/{repo}/paths-info/{rev}``
- ``HEAD|GET /{repo}/resolve/{rev}/{path}`` with Range, ``X-Repo-Commit``,
  ``X-Linked-Etag``/``X-Linked-Size``, ``ETag`` (errors carry ``X-Error-Code`` like the Hub)

Bodies go out with ``sendfile`` unless a throttle or a fault needs byte-level control.
Faults (per file path, optionally for the first N requests): drop the connection after N
bytes, stall, hold at a gate until released, corrupt a byte, answer a status, redirect,
ignore Range; API faults: status or stall for the metadata endpoints. Every request is
logged (method, path, range start, status, body bytes sent).

Run standalone: ``python -m tests.support.hub_server --root DIR [--port N] [--rate BYTES_PER_S]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.hub_state import FileFault, HubState, LogEntry, is_lfs, peer_gone, repo_commit

CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


class HubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HubHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def state(self) -> HubState:
        return self.server.state

    # ------------------------------------------------------------------ helpers
    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self._log(status, None, len(data))

    def _error(self, status: int, code: str, message: str) -> None:
        self._send_json(
            status, {"error": message}, {"X-Error-Code": code, "X-Error-Message": message}
        )

    def _log(self, status: int, range_start: int | None, sent: int) -> None:
        with self.state.lock:
            self.state.log.append(
                LogEntry(self.command, urlsplit(self.path).path, range_start, status, sent)
            )

    def _repo(self, owner: str, name: str) -> Path | None:
        repo = self.state.root / owner / name
        return repo if repo.is_dir() and ".." not in (owner, name) else None

    def _revision_ok(self, repo: Path, rev: str) -> bool:
        return rev in ("main", repo_commit(repo))

    def _files(self, repo: Path) -> list[Path]:
        return sorted(p for p in repo.rglob("*") if p.is_file() and not p.name.startswith("."))

    def _entry(self, repo: Path, p: Path) -> dict[str, Any]:
        rel = str(p.relative_to(repo))
        size = p.stat().st_size
        entry: dict[str, Any] = {
            "type": "file",
            "oid": hashlib.sha1(rel.encode()).hexdigest(),
            "size": size,
            "path": rel,
        }
        if is_lfs(p):
            entry["lfs"] = {"oid": self.state.sha256(p), "size": size, "pointerSize": 134}
        return entry

    # ------------------------------------------------------------------ routing
    def do_HEAD(self) -> None:
        self._dispatch()

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        try:
            parts = urlsplit(self.path)
            segs = [unquote(s) for s in parts.path.strip("/").split("/")]
            if segs[:1] == ["_control"]:
                self._control(segs[1:])
            elif segs[:1] == ["api"] and segs[1:2] == ["models"]:
                self._api(segs[2:], parse_qs(parts.query))
            elif len(segs) >= 5 and segs[2] == "resolve":
                self._resolve(segs[0], segs[1], segs[3], "/".join(segs[4:]))
            else:
                self._error(404, "NotFound", "not found")
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def _control(self, segs: list[str]) -> None:
        """Out-of-process control (benchmarks): faults, log, clear."""
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}") if length else {}
        what = segs[0] if segs else ""
        if what == "fault":
            key = f"{body.pop('repo_id')}/{body.pop('path')}"
            with self.state.lock:
                self.state.faults[key] = FileFault(**body)
            self._send_json(200, {"ok": True})
        elif what == "log":
            with self.state.lock:
                log = [vars(e) for e in self.state.log]
            self._send_json(200, log)
        elif what == "clear":
            with self.state.lock:
                self.state.faults.clear()
                self.state.log.clear()
            self._send_json(200, {"ok": True})
        else:
            self._error(404, "NotFound", "unknown control")

    def _api(self, segs: list[str], query: dict[str, list[str]]) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.state.api_stall_s:
            time.sleep(self.state.api_stall_s)
        if self.state.api_status:
            self._error(self.state.api_status, "ServerError", "injected failure")
            return
        if len(segs) < 2 or (repo := self._repo(segs[0], segs[1])) is None:
            self._error(404, "RepoNotFound", "Repository not found")
            return
        repo_id = f"{segs[0]}/{segs[1]}"
        rest = segs[2:]
        commit = repo_commit(repo)
        if not rest or rest[0] == "revision":
            if rest and not self._revision_ok(repo, "/".join(rest[1:])):
                self._error(404, "RevisionNotFound", "Revision not found")
                return
            blobs = query.get("blobs", ["false"])[0].lower() == "true"
            siblings = []
            for p in self._files(repo):
                sib: dict[str, Any] = {"rfilename": str(p.relative_to(repo))}
                if blobs:
                    e = self._entry(repo, p)
                    sib.update(size=e["size"], blobId=e["oid"])
                    if "lfs" in e:
                        sib["lfs"] = {
                            "size": e["size"],
                            "sha256": e["lfs"]["oid"],
                            "pointerSize": 134,
                        }
                siblings.append(sib)
            self._send_json(200, {"id": repo_id, "sha": commit, "siblings": siblings})
        elif rest[0] == "tree" and len(rest) >= 2:
            if not self._revision_ok(repo, rest[1]):
                self._error(404, "RevisionNotFound", "Revision not found")
                return
            sub = "/".join(rest[2:])
            base = repo / sub if sub else repo
            recursive = query.get("recursive", ["false"])[0].lower() == "true"
            items = base.rglob("*") if recursive else base.glob("*")
            out = []
            for p in sorted(items):
                if p.is_dir():
                    out.append(
                        {"type": "directory", "oid": "0" * 40, "path": str(p.relative_to(repo))}
                    )
                elif p.is_file():
                    out.append(self._entry(repo, p))
            self._send_json(200, out)
        elif rest[0] == "paths-info" and len(rest) >= 2:
            wanted = parse_qs(body.decode()).get("paths", [])
            out = [self._entry(repo, repo / w) for w in wanted if (repo / w).is_file()]
            self._send_json(200, out)
        else:
            self._error(404, "NotFound", "not found")

    def _resolve(self, owner: str, name: str, rev: str, rel: str) -> None:
        repo = self._repo(owner, name)
        if repo is None:
            self._error(404, "RepoNotFound", "Repository not found")
            return
        if not self._revision_ok(repo, rev):
            self._error(404, "RevisionNotFound", "Revision not found")
            return
        path = repo / rel
        if ".." in rel.split("/") or not path.is_file():
            self._error(404, "EntryNotFound", "Entry not found")
            return
        fault = self.state.take_fault(f"{owner}/{name}/{rel}") if self.command == "GET" else None
        if fault and fault.status:
            code = {404: "EntryNotFound"}.get(fault.status, "ServerError")
            self._error(fault.status, code, "injected failure")
            return
        if fault and fault.redirect_to:
            self.send_response(302)
            self.send_header("Location", fault.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self._log(302, None, 0)
            return
        size = path.stat().st_size
        sha = self.state.sha256(path)
        start, end = 0, size - 1
        m = _RANGE.match(self.headers.get("Range", ""))
        partial = bool(m) and not (fault and fault.ignore_range)
        if m and partial:
            start = int(m.group(1))
            end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                self._log(416, start, 0)
                return
        self.send_response(206 if partial else 200)
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{sha}"')
        self.send_header("X-Linked-Etag", f'"{sha}"')
        self.send_header("X-Linked-Size", str(size))
        self.send_header("X-Repo-Commit", repo_commit(repo))
        self.send_header("Content-Type", "application/octet-stream")
        if partial:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if self.command == "HEAD":
            self._log(200, None, 0)
            return
        sent = 0
        try:
            sent = self._body(path, start, end - start + 1, fault)
        finally:
            self._log(206 if partial else 200, start if partial else None, sent)

    def _body(self, path: Path, start: int, count: int, fault: FileFault | None) -> int:
        state = self.state
        if fault is None and not state.rate_bps:
            with path.open("rb") as fh:
                return self.connection.sendfile(fh, start, count)
        sent = 0
        began = time.monotonic()
        flip_at = (start + count) // 2 if fault and fault.corrupt else -1
        # fault marks are file offsets: a resumed request past a mark meets it at once
        drop, stall, gate = (
            (None if m is None else max(m - start, 0))
            for m in (
                (fault.drop_after, fault.stall_after, fault.gate_after) if fault else (None,) * 3
            )
        )
        with path.open("rb") as fh:
            fh.seek(start)
            while True:
                if drop is not None and sent >= drop:
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return sent
                if stall is not None and sent == stall:
                    self.wfile.flush()
                    state.stopping.wait(fault.stall_s if fault else 0)
                if gate is not None and sent == gate:
                    self.wfile.flush()
                    while not state.gate.wait(0.2) and not state.stopping.is_set():
                        if peer_gone(self.connection):
                            self.close_connection = True
                            return sent
                if sent >= count:
                    break
                limit = count - sent
                for mark in (drop, stall, gate):
                    if mark is not None and sent < mark:
                        limit = min(limit, mark - sent)
                data = bytearray(fh.read(min(CHUNK, limit)))
                if not data:
                    break
                pos = start + sent
                if pos <= flip_at < pos + len(data):
                    data[flip_at - pos] ^= 0xFF
                self.wfile.write(data)
                sent += len(data)
                if state.rate_bps:
                    ahead = sent / state.rate_bps - (time.monotonic() - began)
                    if ahead > 0:
                        time.sleep(ahead)
        return sent


class HubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr: tuple[str, int], state: HubState) -> None:
        super().__init__(addr, HubHandler)
        self.state = state


class Hub:
    """A running local hub (background thread). ``url`` is its HF_ENDPOINT."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.state = HubState(root=root)
        self.server = HubHTTPServer((host, port), self.state)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def root(self) -> Path:
        return self.state.root

    def add_file(self, repo_id: str, rel: str, source: Path | bytes) -> Path:
        dest = self.root / repo_id / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, bytes):
            dest.write_bytes(source)
        else:
            try:
                os.link(source, dest)
            except OSError:
                dest.write_bytes(source.read_bytes())
        return dest

    def fault(self, repo_id: str, rel: str, **kwargs: Any) -> FileFault:
        f = FileFault(**kwargs)
        with self.state.lock:
            self.state.faults[f"{repo_id}/{rel}"] = f
        return f

    def clear(self) -> None:
        with self.state.lock:
            self.state.faults.clear()
            self.state.log.clear()
        self.state.api_status = None
        self.state.api_stall_s = 0.0
        self.state.rate_bps = None
        self.state.gate.clear()

    def release(self) -> None:
        self.state.gate.set()

    def requests(self, path_suffix: str = "") -> list[LogEntry]:
        with self.state.lock:
            return [e for e in self.state.log if e.path.endswith(path_suffix)]

    def commit(self, repo_id: str) -> str:
        return repo_commit(self.root / repo_id)

    def stop(self) -> None:
        self.state.stopping.set()
        self.state.gate.set()
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rate", type=float, default=None, help="throttle, bytes/s")
    args = parser.parse_args()
    hub = Hub(args.root, args.host, args.port)
    hub.state.rate_bps = args.rate
    print(hub.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        hub.stop()


if __name__ == "__main__":
    main()
