"""The one outbound-URL policy: where the platform may connect for a URL a user gave.

A user-given URL (a provider base URL today) must be http(s), carry no credentials, and its
host must resolve only to public addresses: loopback, private, link-local (cloud metadata
included), multicast, unspecified, reserved and other non-global addresses are refused, in
IPv4 and IPv6, including IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64,
6to4, Teredo) and IPv4 spellings that only libc understands (``2130706433``, ``0177.1``).
An admin may allow host names or networks (settings); cloud metadata addresses stay refused
whatever the allow-list says. The check runs when the URL is given (:meth:`check_url`) and
again on every connection (:class:`GuardedBackend`): the host is resolved once, each address
checked, and the connection goes to the checked address itself, so DNS rebinding between
the two finds nothing to connect to. Clients built here follow no redirects and ignore
proxy environment variables (a proxy would resolve the host where we cannot check it).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpcore2
import httpx2

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud instance metadata services (AWS, ECS, GCP/Azure share the first; AWS IPv6, Alibaba,
# Oracle): never reachable through a user's URL, whatever the allow-list says.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*", re.IGNORECASE)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class OutboundRefused(ValueError):
    """A URL or address the outbound policy refuses; the message says why (no addresses a
    user did not give)."""


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    packed = int(ip)
    if packed >> 32 == 0 and packed > 1:  # ::a.b.c.d (IPv4-compatible, deprecated)
        return ipaddress.IPv4Address(packed & 0xFFFFFFFF)
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(packed & 0xFFFFFFFF)
    return None


def address_problem(ip: IPAddress) -> str | None:
    """Why a user's URL may not reach this address (a category), or None when it is public."""
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "a scoped (link-local) address"
        inner = embedded_ipv4(ip)
        if inner is not None:
            problem = address_problem(inner)
            if problem is not None:
                return f"{problem} (inside an IPv6 address)"
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "a non-public address"),
    )
    return next((why for bad, why in checks if bad), None)


def is_public_address(addr: str) -> bool:
    """True for an address every user URL may reach (the strict check, no allow-list)."""
    return address_problem(ipaddress.ip_address(addr)) is None


def literal_ip(host: str) -> IPAddress | None:
    """The IP a host written as an address means, or None for a name. IPv4 spellings that
    only libc reads as addresses (decimal, octal, hex, short forms) are refused outright."""
    bare = host.strip("[]")
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    try:
        socket.inet_aton(bare)
    except (OSError, ValueError):  # ValueError: a NUL or a character outside ASCII
        return None
    raise OutboundRefused(f"'{host}' is a non-standard spelling of an IPv4 address")


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


async def resolve_host(host: str, port: int) -> list[str]:
    """The addresses a host name resolves to (the system resolver, off the event loop)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class OutboundPolicy:
    """Allow-listed host names (exact, or ``.example.com`` for subdomains) and networks."""

    def __init__(
        self, allowed_hosts: Iterable[str] = (), allowed_networks: Iterable[str] = ()
    ) -> None:
        self.allowed_hosts = frozenset(h.strip().lower().strip("[]") for h in allowed_hosts if h)
        self.allowed_networks: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(n.strip(), strict=False) for n in allowed_networks if n.strip()
        )

    def host_allowed(self, host: str) -> bool:
        host = host.lower().strip("[]").rstrip(".")
        if host in self.allowed_hosts:
            return True
        ip = ipaddress.ip_address(host) if _is_ip(host) else None
        if ip is not None:
            return any(ip == _as_ip(h) for h in self.allowed_hosts)
        return any(h.startswith(".") and host.endswith(h) for h in self.allowed_hosts)

    def check_address(self, host: str, ip: IPAddress) -> None:
        """Refuse a connection from ``host``'s URL to ``ip`` unless public or allowed."""
        problem = address_problem(ip)
        if problem is None:
            return
        metadata = problem.startswith("a cloud metadata")
        if not metadata and (
            self.host_allowed(host) or any(ip in net for net in self.allowed_networks)
        ):
            return
        verb = "is" if _is_ip(host) else "resolves to"
        raise OutboundRefused(f"host '{host}' {verb} {problem}")

    def check_syntax(self, url: str) -> tuple[str, int]:
        """(host, port) of an http(s) URL without credentials, or OutboundRefused."""
        try:
            parts = urlsplit(url.strip())
            host = (parts.hostname or "").rstrip(".")
        except ValueError:
            raise OutboundRefused("the URL is malformed") from None
        if parts.scheme not in ("http", "https"):
            raise OutboundRefused("only http and https URLs are allowed")
        if parts.username is not None or parts.password is not None:
            raise OutboundRefused("the URL must not contain credentials")
        if not host:
            raise OutboundRefused("the URL has no host")
        try:
            port = parts.port or _default_port(parts.scheme)
        except ValueError:
            raise OutboundRefused("the URL has an invalid port") from None
        if literal_ip(host) is None and not _HOST_NAME.fullmatch(host):
            raise OutboundRefused(
                "the host is not a valid DNS name (ASCII letters, digits, hyphens and dots; "
                "an international name in its xn-- form)"
            )
        return host, port

    async def resolve(self, host: str, port: int, timeout: float | None = None) -> list[str]:
        """Every address ``host`` resolves to, each checked; refused if any is forbidden."""
        ip = literal_ip(host)
        if ip is not None:
            self.check_address(host, ip)
            return [str(ip)]
        try:
            with anyio.fail_after(timeout):
                addresses = await resolve_host(host, port)
        except (OSError, TimeoutError, ValueError):  # ValueError: NUL, bad IDNA label
            raise OutboundRefused(f"host '{host[:255]}' cannot be resolved") from None
        if not addresses:
            raise OutboundRefused(f"host '{host}' cannot be resolved")
        for addr in addresses:
            self.check_address(host, ipaddress.ip_address(addr.split("%", 1)[0]))
        return addresses

    async def check_url(self, url: str, timeout: float = 10.0) -> None:
        """The check when a user gives a URL: syntax, then every resolved address."""
        host, port = self.check_syntax(url)
        await self.resolve(host, port, timeout)

    def http_client(self, timeout_s: float) -> httpx2.AsyncClient:
        """An httpx2 client whose every connection passes the policy; no redirects, no proxy."""
        return httpx2.AsyncClient(
            transport=GuardedTransport(self),
            trust_env=False,
            follow_redirects=False,
            timeout=timeout_s,
        )


def _is_ip(host: str) -> bool:
    return _as_ip(host) is not None


def _as_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


class GuardedBackend(httpcore2.AsyncNetworkBackend):
    """httpcore2's network backend with the policy in front of every TCP connect: resolve,
    check every address, connect to a checked address (never resolving again)."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy
        self.inner = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        try:
            addresses = await self.policy.resolve(host, port, timeout)
        except OutboundRefused as exc:
            raise RefusedConnection(str(exc)) from exc
        last: Exception | None = None
        for addr in addresses:
            try:
                return await self.inner.connect_tcp(
                    addr, port, timeout, local_address, socket_options
                )
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore2.AsyncNetworkStream:
        raise RefusedConnection("unix sockets are not allowed for user URLs")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx2.AsyncHTTPTransport):
    """httpx2's transport (no proxy from the environment) over a :class:`GuardedBackend`."""

    def __init__(self, policy: OutboundPolicy) -> None:
        super().__init__(trust_env=False)
        limits = httpx2.Limits(max_connections=100, max_keepalive_connections=20)
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=httpx2.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(policy),
        )


class RefusedConnection(httpcore2.ConnectError):
    """A connection the policy refused at connect time (what httpx2 and the SDK wrap)."""


def refusal_in(exc: BaseException) -> str | None:
    """The policy's reason when ``exc`` (an SDK/httpx2 error) was caused by a refusal."""
    seen: BaseException | None = exc
    for _ in range(8):  # a short cause chain: SDK error <- httpx2 error <- ours
        if seen is None:
            break
        if isinstance(seen, RefusedConnection | OutboundRefused):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return None
