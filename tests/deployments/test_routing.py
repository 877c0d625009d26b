"""ConversationAffinityRouter through real Serve handles (local Ray, no HTTP proxy)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def echo_handle() -> Iterator[Any]:
    import ray
    from ray import serve
    from ray.serve.config import RequestRouterConfig

    ray.init(
        include_dashboard=False, num_cpus=2, _node_ip_address="127.0.0.1", namespace="routing-test"
    )
    serve.start(proxy_location="Disabled")

    @serve.deployment(
        num_replicas=3,
        ray_actor_options={"num_cpus": 0},
        max_ongoing_requests=4,
        request_router_config=RequestRouterConfig(
            request_router_class="deployments.routing:ConversationAffinityRouter",
            request_router_kwargs={"saturated_at": 4},
        ),
    )
    class Echo:
        async def __call__(self, request: dict[str, Any]) -> str:
            await asyncio.sleep(request.get("sleep", 0))
            return str(serve.get_replica_context().replica_id.unique_id)

    handle = serve.run(Echo.bind(), name="routing", route_prefix=None)
    try:
        yield handle
    finally:
        serve.shutdown()
        ray.shutdown()


def test_same_conversation_same_replica(echo_handle: Any) -> None:
    for key in ("conv_a", "conv_b", "conv_c"):
        served = {echo_handle.remote({"user": key}).result() for _ in range(12)}
        assert len(served) == 1, (key, served)


def test_conversations_spread_over_replicas(echo_handle: Any) -> None:
    owners = Counter(echo_handle.remote({"user": f"conv_{i}"}).result() for i in range(60))
    assert len(owners) == 3, owners  # rendezvous hashing uses every replica


def test_requests_without_key_still_routed(echo_handle: Any) -> None:
    served = Counter(echo_handle.remote({"message": "x"}).result() for _ in range(30))
    assert len(served) >= 2


def test_overloaded_preferred_replica_spills_over(echo_handle: Any) -> None:
    alone = echo_handle.remote({"user": "hot"}).result()
    responses = [echo_handle.remote({"user": "hot", "sleep": 0.5}) for _ in range(12)]
    served = Counter(r.result() for r in responses)
    assert served[alone] >= 4  # the preferred replica takes what it can hold
    assert len(served) >= 2, served  # the rest go elsewhere instead of queueing behind it
