"""Who is on the other end of a request: the client address (believing forwarded headers
only from trusted proxies) and whether a browser request comes from an allowed origin.

Pure functions of the peer address and the headers, so the rate limiter, the logs, the
HTTP dependencies and the WebSocket handshake all decide the same way.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers

from lmwebui.serve_runtime import PEER_HEADER, PROXY_KEY_HEADER

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def parse_ip(value: str) -> IPAddress | None:
    """An address from a peer or a forwarded hop (``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``,
    ``"[2001:db8::1]"``); IPv4-mapped IPv6 becomes IPv4; None when it is not an address."""
    text = value.strip().strip('"')
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def proxied_peer(peer: str | None, headers: Headers, proxy_key: str | None) -> str | None:
    """The connection's peer as the platform's own proxy saw it. Behind Ray Serve's HAProxy
    the replica's peer is HAProxy, the same address for every client; HAProxy sets the
    client's address in `PEER_HEADER` beside the proxy key. Without the key (or with a
    wrong one: a client's own header, a request that bypassed HAProxy) the peer stands."""
    if not proxy_key:
        return peer
    sent = headers.get(PROXY_KEY_HEADER)
    if sent is None or not hmac.compare_digest(sent.encode(), proxy_key.encode()):
        return peer
    seen = headers.get(PEER_HEADER)
    ip = parse_ip(seen) if seen else None
    return str(ip) if ip is not None else peer


def _forwarded_for(value: str) -> list[str]:
    """The ``for=`` of each element of an RFC 7239 Forwarded header, in order."""
    hops = []
    for element in value.split(","):
        for pair in element.split(";"):
            name, _, hop = pair.strip().partition("=")
            if name.strip().lower() == "for":
                hops.append(hop)
    return hops


def forwarded_hops(headers: Headers, header: str) -> list[str]:
    """The hops a forwarded header lists, left (the first client) to right (the last proxy);
    several header lines count as one list, in order."""
    values = headers.getlist(header)
    if header == "forwarded":
        return [hop for value in values for hop in _forwarded_for(value)]
    return [hop for value in values for hop in value.split(",")]


def client_address(
    peer: str | None,
    headers: Headers,
    trusted: Sequence[IPNetwork],
    header: str = "x-forwarded-for",
) -> str:
    """The client: the peer, unless the peer is a trusted proxy; then the right-most hop of
    the forwarded header that is not a trusted proxy (a client's own header sits to the left
    of what its proxies appended, so it is never believed). A hop that is not an address
    ends the walk at the last address known to be real."""
    if not peer:
        return "unknown"
    ip = parse_ip(peer)
    if ip is None or not _in(ip, trusted):
        return str(ip) if ip is not None else peer
    address = str(ip)
    for hop in reversed(forwarded_hops(headers, header)):
        hop_ip = parse_ip(hop)
        if hop_ip is None:
            break
        address = str(hop_ip)
        if not _in(hop_ip, trusted):
            break
    return address


def _in(ip: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(ip in network for network in networks)


def request_origin(headers: Mapping[str, str]) -> str | None:
    """The Origin a browser sent (else the origin of its Referer), lower case; None when the
    request carries neither (not a browser). ``null`` and unreadable values stay as given."""
    origin = headers.get("origin")
    if origin is not None:
        return origin.strip().lower()
    referer = headers.get("referer")
    if not referer:
        return None
    parts = urlsplit(referer.strip())
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.netloc else "null"


def origin_allowed(headers: Mapping[str, str], allowed: Sequence[str]) -> bool:
    """Same origin (the Origin's host[:port] is the request's Host) or allow-listed; a
    request without Origin and Referer is not a browser's and passes."""
    origin = request_origin(headers)
    if origin is None or origin in allowed:
        return True
    parts = urlsplit(origin)
    host = headers.get("host", "").strip().lower()
    return parts.scheme in ("http", "https") and bool(host) and parts.netloc == host
