"""Conversation-affine request routing for chat deployments.

A conversation's KV cache lives in one replica's slots, so turn N+1 is only cheap on the
replica that served turn N. This router sends every request carrying the same affinity key
(``request["user"]``: the conversation id, set by the ingress) to one replica chosen by
rendezvous hashing, which stays stable when replicas come and go (only the keys of a
removed replica move). When that replica looks saturated (its queue length reached the
configured slot count) or is not a candidate, the request falls back to Ray Serve's
power-of-two choice over the remaining replicas. Multiplexed model ids still narrow the
candidates first, so a model stays where it is loaded.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from ray.serve.request_router import (
    FIFOMixin,
    MultiplexMixin,
    PendingRequest,
    RequestRouter,
    RunningReplica,
)

SATURATED_AT = 16  # ongoing requests at which the preferred replica counts as busy


def affinity_key(pending_request: PendingRequest | None) -> str | None:
    if pending_request is None or not pending_request.args:
        return None
    first = pending_request.args[0]
    if isinstance(first, dict):
        key = first.get("user")
        return key if isinstance(key, str) and key else None
    return None


def rendezvous_order(key: str, replicas: list[RunningReplica]) -> list[RunningReplica]:
    def score(r: RunningReplica) -> bytes:
        return hashlib.blake2b(f"{key}|{r.replica_id.unique_id}".encode(), digest_size=8).digest()

    return sorted(replicas, key=score, reverse=True)


class ConversationAffinityRouter(FIFOMixin, MultiplexMixin, RequestRouter):
    """Affinity by conversation, overload-aware, multiplex-aware."""

    def initialize_state(self, **kwargs: Any) -> None:
        self.saturated_at = int(kwargs.get("saturated_at", SATURATED_AT))

    async def choose_replicas(
        self,
        candidate_replicas: list[RunningReplica],
        pending_request: PendingRequest | None = None,
    ) -> list[list[RunningReplica]]:
        candidates = candidate_replicas
        if pending_request is not None and pending_request.metadata.multiplexed_model_id:
            ids = self.apply_multiplex_routing(pending_request=pending_request)
            narrowed = [r for r in candidate_replicas if r.replica_id in ids]
            candidates = narrowed or candidate_replicas
        if not candidates:
            return []
        key = affinity_key(pending_request)
        if key is None or len(candidates) == 1:
            return [self._two_choices(candidates)]
        ordered = rendezvous_order(key, candidates)
        preferred, rest = ordered[0], ordered[1:]
        queue = self._replica_queue_len_cache.get(preferred.replica_id)
        if queue is not None and queue >= min(self.saturated_at, preferred.max_ongoing_requests):
            return [self._two_choices(rest), [preferred]]
        return [[preferred], self._two_choices(rest)]

    @staticmethod
    def _two_choices(replicas: list[RunningReplica]) -> list[RunningReplica]:
        if len(replicas) <= 2:
            return random.sample(replicas, len(replicas))
        return random.sample(replicas, 2)
