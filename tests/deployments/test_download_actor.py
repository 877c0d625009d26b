"""The real DownloadManager Ray actor on a local Ray: shared by clients, survives a kill."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deployments.download_manager import ACTOR_NAME, ACTOR_NAMESPACE, RayDownloads
from lmwebui.errors import Conflict, NotFound
from lmwebui.models.download_task import DownloadConfig, DownloadSpec
from tests.support.downloads import leftovers, sha256
from tests.support.gguf_fixtures import MIB, REPO
from tests.support.hub_server import Hub

pytestmark = pytest.mark.slow
Q8 = "tiny.Q8_0.gguf"


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
    )
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture
def config(local_ray: None, hub: Hub, tmp_path: Path) -> Iterator[DownloadConfig]:
    import ray

    yield DownloadConfig(
        models_dir=str(tmp_path / "models"),
        hub_endpoint=hub.url,
        read_timeout_s=2,
        connect_timeout_s=2,
        reserve_free_bytes=0,
        progress_interval_s=0.05,
    )
    ray.kill(ray.get_actor(ACTOR_NAME, namespace=ACTOR_NAMESPACE), no_restart=True)


def spec(hub: Hub, rel: str = Q8) -> dict[str, Any]:
    path = hub.root / REPO / rel
    commit = hub.commit(REPO)
    return vars(
        DownloadSpec(
            repo_id=REPO,
            revision="main",
            commit=commit,
            path=rel,
            filename=rel,
            url=f"{hub.url}/{REPO}/resolve/{commit}/{rel}",
            size=path.stat().st_size,
            sha256=sha256(path),
        )
    )


async def until(client: RayDownloads, task_id: str, pred: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    snap: dict[str, Any] | None = None
    while True:
        version = snap["version"] if snap else None
        snap = await client.watch(task_id, version, 2.0)
        assert snap is not None
        if pred(snap):
            return snap
        assert time.monotonic() < deadline, snap


async def test_actor_is_shared_and_resumes_after_being_killed(
    config: DownloadConfig, hub: Hub, tmp_path: Path
) -> None:
    import ray

    replica_a, replica_b = RayDownloads(config), RayDownloads(config)  # two ingress replicas
    actor = ray.get_actor(ACTOR_NAME, namespace=ACTOR_NAMESPACE)
    hub.fault(REPO, Q8, gate_after=2 * MIB)
    started = await replica_a.start(spec(hub), 1)
    tid = started["task_id"]
    # replica B sees the task replica A started, and its progress
    snap = await until(replica_b, tid, lambda s: s["downloaded_bytes"] >= 2 * MIB)
    assert snap["status"] == "running" and snap["started_by"] == 1
    joined = await replica_b.start(spec(hub), 2)
    assert joined["joined"] is True and joined["owners"] == [1, 2]

    ray.kill(actor, no_restart=False)  # the actor dies mid-download; Ray restarts it
    hub.release()
    done = await until(replica_b, tid, lambda s: s["status"] in ("completed", "error"))
    assert done["status"] == "completed", done
    assert done["owners"] == [1, 2]  # the task's state survived the restart
    gets = [e for e in hub.requests(Q8) if e.method == "GET"]
    assert gets[0].range_start is None and gets[-1].range_start is not None
    assert gets[-1].range_start >= 2 * MIB  # resumed from the partial file, not from zero
    models = tmp_path / "models"
    assert sha256(models / Q8) == sha256(hub.root / REPO / Q8)
    assert leftovers(models) == []
    assert (await replica_a.get(tid)) == (await replica_b.get(tid))


async def test_api_errors_cross_the_actor_boundary(
    config: DownloadConfig, hub: Hub, tmp_path: Path
) -> None:
    client = RayDownloads(config)
    with pytest.raises(NotFound):
        await client.cancel("download_missing")
    (tmp_path / "models").mkdir(parents=True, exist_ok=True)
    (tmp_path / "models" / Q8).write_bytes(b"exists")
    with pytest.raises(Conflict):
        await client.start(spec(hub), 1)
    assert await client.ready() is True
    assert await asyncio.wait_for(client.list_tasks(), 30) == []
