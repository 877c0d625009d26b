"""The rewrites `lmwebui serve`'s worker setup hook makes to Ray Serve's HAProxy config
template (the live effect: tests/deployments/test_serve_app.py, test_forwarded.py)."""

from __future__ import annotations

import pytest
from ray.serve._private import haproxy, haproxy_templates

from lmwebui import serve_runtime
from lmwebui.serve_runtime import PEER_HEADER, PROXY_KEY_HEADER

KEY = "0123456789abcdef" * 4


@pytest.fixture
def template(monkeypatch: pytest.MonkeyPatch) -> str:
    """Ray's shipped template; the hook's changes are undone after the test."""
    original = haproxy_templates.HAPROXY_CONFIG_TEMPLATE
    monkeypatch.setattr(haproxy_templates, "HAPROXY_CONFIG_TEMPLATE", original)
    monkeypatch.setattr(haproxy, "HAPROXY_CONFIG_TEMPLATE", original, raising=False)
    return original


def _frontend(text: str) -> list[str]:
    lines = text.split("frontend http_frontend\n", 1)[1].splitlines()
    return [line.strip() for line in lines[:3]]


def test_hook_sets_the_peer_headers_in_the_http_frontend(
    template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(serve_runtime.PROXY_KEY_ENV, KEY)
    serve_runtime.bind_haproxy_side_listeners()
    rewritten = haproxy_templates.HAPROXY_CONFIG_TEMPLATE
    assert rewritten == haproxy.HAPROXY_CONFIG_TEMPLATE  # type: ignore[attr-defined]
    # set (replacing a client's own), first thing after the bind, in the one HTTP frontend
    assert _frontend(rewritten) == [
        "bind {{ config.frontend_host }}:{{ config.frontend_port }}",
        f"http-request set-header {PEER_HEADER} %[src]",
        f"http-request set-header {PROXY_KEY_HEADER} {KEY}",
    ]
    assert rewritten.count(PROXY_KEY_HEADER) == 1
    # and the side listeners bind the proxy's host
    assert "bind :{{ config.metrics_port }}" not in rewritten
    assert "bind *:{{ config.stats_port }}" not in rewritten
    assert "bind {{ config.frontend_host }}:{{ config.stats_port }}" in rewritten


def test_without_the_key_the_frontend_is_ray_s(
    template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(serve_runtime.PROXY_KEY_ENV, raising=False)
    serve_runtime.bind_haproxy_side_listeners()
    assert _frontend(haproxy_templates.HAPROXY_CONFIG_TEMPLATE) == _frontend(template)
    assert PEER_HEADER not in haproxy_templates.HAPROXY_CONFIG_TEMPLATE


@pytest.mark.parametrize("bad", ["", "abc", KEY.upper(), KEY + "\n    bind :80", KEY[:-1] + " "])
def test_only_a_key_goes_into_the_config(bad: str) -> None:
    with pytest.raises(ValueError, match=serve_runtime.PROXY_KEY_ENV):
        serve_runtime.peer_rules(bad)
