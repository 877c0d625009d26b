"""Structured output and tools on an upstream provider: passed through as the client sent
them, the upstream's tool-call deltas relayed (a local fake upstream records the request)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.support.api import login_as
from tests.support.app import ClientFactory
from tests.support.upstream import FakeUpstream, fake_upstream

FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "n", "schema": {"type": "object", "minProperties": 1}, "strict": True},
}
TOOL = {
    "type": "function",
    "function": {"name": "f", "parameters": {"type": "object", "properties": {}}},
}
CALL = [
    (
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_up",
                    "type": "function",
                    "function": {"name": "f", "arguments": ""},
                }
            ],
        },
        None,
    ),
    ({"tool_calls": [{"index": 0, "function": {"arguments": '{"a": '}}]}, None),
    ({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}, None),
    ({}, "tool_calls"),
]


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with fake_upstream() as server:
        yield server


def test_response_format_and_tools_pass_through_and_tool_calls_come_back(
    client_factory: ClientFactory, upstream: FakeUpstream
) -> None:
    client = client_factory(
        rate_limits={"enabled": False},
        chat={"openai_base_url": upstream.url, "openai_api_key": "sk-server-key"},
    )
    h = login_as(client, "upstream-tools@example.com")
    upstream.script = CALL
    choice = {"type": "function", "function": {"name": "f"}}
    body = {
        "model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": FORMAT,  # minProperties: the upstream's to enforce, not ours
        "tools": [TOOL],
        "tool_choice": choice,
        "parallel_tool_calls": False,
    }
    r = client.post("/v1/chat/completions", headers=h, json=body)
    assert r.status_code == 200, r.text
    sent = json.loads(upstream.received[-1].body)
    assert sent["response_format"] == FORMAT
    assert sent["tools"] == [TOOL]
    assert sent["tool_choice"] == choice and sent["parallel_tool_calls"] is False
    choice_out = r.json()["choices"][0]
    assert choice_out["finish_reason"] == "tool_calls"
    [call] = choice_out["message"]["tool_calls"]
    assert call["id"] == "call_up" and call["function"] == {"name": "f", "arguments": '{"a": 1}'}
