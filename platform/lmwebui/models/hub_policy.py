"""Which URLs a download may touch (no SSRF) and how references are written.

Only the configured hub origin (``HF_ENDPOINT`` or ``gguf.hub_endpoint``) and the extra hub
host names are accepted in a ``file_url``. Redirects may go to the hub itself or to the
configured CDN host names, and those must resolve to (and be connected on) public
addresses. IP literals are refused unless they are the configured endpoint itself (a local
mirror the operator chose). The address checks are the platform's one outbound policy
(``lmwebui.netpolicy.is_public_address``: no loopback, private, link-local, metadata,
multicast, reserved or IPv4-in-IPv6 forms of them), without its admin allow-list.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from dataclasses import dataclass
from urllib.parse import quote, unquote, urljoin, urlsplit

from lmwebui.errors import ValidationFailed
from lmwebui.netpolicy import is_public_address

DEFAULT_ENDPOINT = "https://huggingface.co"
MAX_URL_CHARS = 2048
_REPO_PART = r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}"
REPO_RE = re.compile(rf"^{_REPO_PART}/{_REPO_PART}$")
REVISION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}(/[A-Za-z0-9._-]{1,128}){0,3}$")
_PATH_SEGMENT = re.compile(r"^[^\x00-\x1f\\]{1,255}$")


class UnsafeURL(ValueError):
    """A URL the download policy refuses."""


@dataclass(frozen=True)
class HubRef:
    repo_id: str
    revision: str | None  # None = the default branch
    path: str | None  # file inside the repo; None = the whole repo


def check_repo_id(repo_id: str) -> str:
    if not REPO_RE.match(repo_id) or ".." in repo_id or "--" in repo_id:
        raise ValidationFailed(f"Invalid repository id '{repo_id[:100]}': expected owner/name")
    return repo_id


def check_revision(revision: str) -> str:
    if not REVISION_RE.match(revision) or ".." in revision:
        raise ValidationFailed(f"Invalid revision '{revision[:100]}'")
    return revision


def check_repo_path(path: str) -> str:
    parts = path.split("/")
    if (
        not path
        or len(path) > 1024
        or path.startswith("/")
        or any(p in ("", ".", "..") or not _PATH_SEGMENT.match(p) for p in parts)
    ):
        raise ValidationFailed(f"Invalid file path '{path[:100]}' in repository")
    return path


def _port(scheme: str, port: int | None) -> int:
    return port if port is not None else (443 if scheme == "https" else 80)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class HubPolicy:
    def __init__(
        self,
        endpoint: str | None,
        extra_hosts: list[str] | tuple[str, ...] = (),
        redirect_hosts: list[str] | tuple[str, ...] = (),
    ) -> None:
        raw = (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"hub endpoint must be an http(s) URL, got {raw!r}")
        self.endpoint = raw
        self.scheme = parts.scheme
        self.host = parts.hostname.lower()
        self.port = _port(parts.scheme, parts.port)
        self.prefix = parts.path.rstrip("/")
        self.hub_hosts = {self.host, *(h.lower().strip() for h in extra_hosts if h.strip())}
        self.redirect_hosts = tuple(h.lower().strip() for h in redirect_hosts if h.strip())

    # ------------------------------------------------------------------ URLs we build
    def file_url(self, repo_id: str, revision: str, path: str) -> str:
        return (
            f"{self.endpoint}/{repo_id}/resolve/{quote(revision, safe='')}/{quote(path, safe='/')}"
        )

    # ------------------------------------------------------------------ URLs users give
    def _is_hub_origin(self, scheme: str, host: str, port: int) -> bool:
        if host == self.host:
            return scheme == self.scheme and port == self.port
        # extra hub host names (e.g. hf.co for huggingface.co): https on the default port
        return host in self.hub_hosts and scheme == "https" and port == 443

    def parse_hub_url(self, url: str) -> HubRef:
        """``https://<hub>/<owner>/<repo>[/resolve|blob/<rev>/<path>]`` -> HubRef, or 400."""
        if len(url) > MAX_URL_CHARS:
            raise ValidationFailed("URL is too long")
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        try:
            port = _port(parts.scheme, parts.port)
        except ValueError:
            raise ValidationFailed("URL has an invalid port") from None
        if parts.scheme not in ("http", "https") or not host:
            raise ValidationFailed("URL must be an http(s) URL of the model hub")
        if parts.username or parts.password:
            raise ValidationFailed("URL must not contain credentials")
        if not self._is_hub_origin(parts.scheme, host, port):
            raise ValidationFailed(
                f"Only files from the configured model hub ({self.endpoint}) can be downloaded"
            )
        path = parts.path
        if self.prefix:
            if not path.startswith(self.prefix + "/"):
                raise ValidationFailed("URL is not a file URL of the configured hub")
            path = path[len(self.prefix) :]
        segments = [unquote(s) for s in path.strip("/").split("/")]
        if len(segments) < 2:
            raise ValidationFailed("URL does not name a repository (expected /owner/name/...)")
        repo_id = check_repo_id("/".join(segments[:2]))
        if len(segments) == 2:
            return HubRef(repo_id, None, None)
        if len(segments) < 5 or segments[2] not in ("resolve", "blob"):
            raise ValidationFailed(
                "URL must look like <hub>/<owner>/<repo>/resolve/<revision>/<file>"
            )
        revision = check_revision(segments[3])
        return HubRef(repo_id, revision, check_repo_path("/".join(segments[4:])))

    # ------------------------------------------------------------------ redirects
    def _redirect_host_allowed(self, host: str) -> bool:
        for allowed in self.redirect_hosts:
            if allowed.startswith("."):
                if host.endswith(allowed) and len(host) > len(allowed):
                    return True
            elif host == allowed:
                return True
        return False

    def next_url(self, current: str, location: str) -> str:
        """The absolute redirect target, or UnsafeURL."""
        target = urljoin(current, location)
        parts = urlsplit(target)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host or parts.username:
            raise UnsafeURL(f"redirect to a refused URL ({parts.scheme}://{host})")
        try:
            port = _port(parts.scheme, parts.port)
        except ValueError:
            raise UnsafeURL("redirect to an invalid port") from None
        if self._is_hub_origin(parts.scheme, host, port):
            return target
        if _is_ip(host):
            raise UnsafeURL(f"redirect to an IP address ({host}) refused")
        if parts.scheme != "https" or not self._redirect_host_allowed(host):
            raise UnsafeURL(f"redirect to a host that is not an allowed hub/CDN host ({host})")
        return target

    def trusted_host(self, url: str) -> bool:
        """The configured endpoint host: the operator chose it, it may be private."""
        return (urlsplit(url).hostname or "").lower() == self.host

    def check_resolves_public(self, url: str) -> None:
        """Every address of a (non-endpoint) host must be public (blocking; before connecting)."""
        if self.trusted_host(url):
            return
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            infos = socket.getaddrinfo(
                host, _port(parts.scheme, parts.port), type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise UnsafeURL(f"cannot resolve {host}: {exc}") from None
        for info in infos:
            addr = str(info[4][0])
            if not is_public_address(addr):
                raise UnsafeURL(f"{host} resolves to a non-public address ({addr})")

    def check_peer(self, url: str, peer: str | None) -> None:
        """The address actually connected to must be public (defeats DNS rebinding)."""
        if self.trusted_host(url) or peer is None:
            return
        if not is_public_address(peer):
            raise UnsafeURL(f"connected to a non-public address ({peer})")


def parse_reference(text: str, policy: HubPolicy) -> HubRef:
    """``owner/repo``, ``owner/repo:file.gguf``, ``owner/repo@rev[:file]`` or a hub URL."""
    value = text.strip()
    if not value:
        raise ValidationFailed("input must not be empty")
    if len(value) > MAX_URL_CHARS:
        raise ValidationFailed("input is too long")
    if value.lower().startswith(("http://", "https://")):
        return policy.parse_hub_url(value)
    if "://" in value:
        raise ValidationFailed("Only http(s) URLs of the model hub are accepted")
    repo_part, sep, file_part = value.partition(":")
    if sep and not file_part:
        raise ValidationFailed("Missing file name after ':' (expected owner/repo:file.gguf)")
    repo_id, at, revision = repo_part.partition("@")
    if at and not revision:
        raise ValidationFailed("Missing revision after '@' (expected owner/repo@revision)")
    check_repo_id(repo_id)
    return HubRef(
        repo_id,
        check_revision(revision) if at else None,
        check_repo_path(file_part) if sep else None,
    )
