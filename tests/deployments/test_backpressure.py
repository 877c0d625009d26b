"""A full ChatGGUF queue answers 503 at once (never hangs), through real Serve handles."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lmwebui.chat.engines.remote import HandleChatEngine
from lmwebui.chat.protocol import ChatCompletionRequest, ChatMessage
from lmwebui.errors import ServiceUnavailable
from tests.support.models import models_dir_with_bundled

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chat_handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import ray
    from ray import serve

    from deployments.chat_gguf import ChatGGUF

    data_dir: Path = tmp_path_factory.mktemp("backpressure")
    models_dir_with_bundled(data_dir / "models")
    overrides = {
        "data_dir": str(data_dir),
        "chat": {"n_slots": 1, "n_ctx_per_slot": 512, "n_threads": 1},
    }
    ray.init(include_dashboard=False, num_cpus=2, _node_ip_address="127.0.0.1", namespace="bp-test")
    serve.start(proxy_location="Disabled")
    app = ChatGGUF.options(  # type: ignore[attr-defined]
        num_replicas=1,
        max_ongoing_requests=1,
        max_queued_requests=1,
        ray_actor_options={"num_cpus": 0},
    ).bind(overrides)
    handle = serve.run(app, name="backpressure", route_prefix=None)
    try:
        yield handle
    finally:
        serve.shutdown()
        ray.shutdown()


async def _one(engine: HandleChatEngine, max_tokens: int) -> str:
    request = ChatCompletionRequest(
        model="gemma3-270m-q4_k_m.gguf",
        messages=[ChatMessage(role="user", content="Tell me a long story.")],
        max_tokens=max_tokens,
        temperature=0,
    )
    text = ""
    try:
        async for chunk in engine.stream(request):
            if chunk.choices and chunk.choices[0].delta.content:
                text += chunk.choices[0].delta.content
    except ServiceUnavailable as exc:
        assert exc.status_code == 503 and exc.error_code == "SERVICE_UNAVAILABLE"
        assert exc.headers == {"Retry-After": "1"}
        return "503"
    return "ok" if text else "empty"


def test_full_queue_is_503_and_the_replica_recovers(chat_handle: Any) -> None:
    engine = HandleChatEngine(chat_handle, multiplexed=True)

    async def burst() -> list[str]:
        return await asyncio.wait_for(
            asyncio.gather(*(_one(engine, 48) for _ in range(6))), timeout=300
        )

    outcomes = asyncio.run(burst())
    # one request running (+ at most one queued) is served; the rest are refused at once
    assert set(outcomes) == {"ok", "503"}, outcomes
    assert outcomes.count("503") >= 4, outcomes
    assert asyncio.run(asyncio.wait_for(_one(engine, 4), timeout=120)) == "ok"
