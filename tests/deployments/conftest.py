"""One real Serve deployment (2 ingress replicas) shared by the module tests.

By default `lmwebui serve` starts its own one-node Ray. With
``LMWEBUI_TEST_CLUSTER_NODES=3`` (``make test-cluster``) the same tests run against a
3-node local Ray cluster (``ray.cluster_utils.Cluster``: a head and two worker nodes on
this machine) that `lmwebui serve` joins, with PostgreSQL as the database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.gguf_fixtures import LIVE_ADMIN
from tests.support.hub_server import Hub
from tests.support.live import LiveServer, start_server

AUTH_LIMIT = "30/minute"  # per address; test users log in from their own (live.login)
CLUSTER_NODES = int(os.environ.get("LMWEBUI_TEST_CLUSTER_NODES", "0") or 0)


@pytest.fixture(scope="session")
def cluster_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Environment that makes `lmwebui serve` join a multi-node cluster (empty: one node)."""
    if CLUSTER_NODES < 2:
        yield {}
        return
    from ray.cluster_utils import Cluster

    from tests.support.pg import PgServer

    pg: PgServer = request.getfixturevalue("pg_server")
    pg.psql("CREATE DATABASE live_cluster")
    # The head's proxy would prefer the ingress replica on its own node; spreading requests
    # over replicas on different nodes is what the shared-state tests must see. The nodes'
    # processes inherit this environment.
    mp = pytest.MonkeyPatch()
    mp.setenv("RAY_SERVE_PROXY_PREFER_LOCAL_NODE_ROUTING", "0")
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 4, "include_dashboard": False},
    )
    for _ in range(CLUSTER_NODES - 1):
        cluster.add_node(num_cpus=4)
    cluster.wait_for_nodes()
    try:
        yield {
            "RAY_ADDRESS": cluster.address,
            "LMWEBUI_PROXY_LOCATION": "HeadOnly",  # the nodes share one host and port
            "LMWEBUI_DATABASE_URL": pg.url("live_cluster"),
        }
    finally:
        cluster.shutdown()
        mp.undo()


@pytest.fixture(scope="session")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, live_hub: Hub, cluster_env: dict[str, str]
) -> Iterator[LiveServer]:
    base: Path = tmp_path_factory.mktemp("live")
    server = start_server(
        base / "data",
        env={
            "LMWEBUI_INGRESS_REPLICAS": "2",
            "LMWEBUI_RATE_LIMITS__AUTH": AUTH_LIMIT,
            "HF_ENDPOINT": live_hub.url,  # the local hub (tests/hub_server.py)
            "LMWEBUI_ADMIN_EMAILS": LIVE_ADMIN,
            # test_chat_serve points a user's `openai` provider at the platform's own /v1
            "LMWEBUI_CHAT__ALLOWED_PROVIDER_HOSTS": "127.0.0.1",
            **cluster_env,
        },
    )
    try:
        yield server
    finally:
        code = server.stop()
        assert code == 0, f"lmwebui serve exited {code}:\n{server.tail()}"
