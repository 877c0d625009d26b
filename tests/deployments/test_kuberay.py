"""The KubeRay manifest's embedded Serve config agrees with serve_config.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from deployments.config import AppArgs, resolve_app_args

REPO = Path(__file__).resolve().parents[2]


def test_rayservice_serve_config_matches_serve_config_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ray.serve.schema import ServeDeploySchema

    monkeypatch.setenv("LMWEBUI_DATA_DIR", str(tmp_path))
    manifest = yaml.safe_load((REPO / "configs" / "kuberay" / "rayservice.yaml").read_text())
    assert manifest["kind"] == "RayService"
    embedded = ServeDeploySchema.model_validate(yaml.safe_load(manifest["spec"]["serveConfigV2"]))
    local = ServeDeploySchema.model_validate(
        yaml.safe_load((REPO / "serve_config.yaml").read_text())
    )
    assert [a.name for a in embedded.applications] == [a.name for a in local.applications]
    for cluster_app, local_app in zip(embedded.applications, local.applications, strict=True):
        assert cluster_app.import_path == local_app.import_path
        assert cluster_app.route_prefix == local_app.route_prefix
        cluster_args = AppArgs.model_validate(cluster_app.args)
        local_args = AppArgs.model_validate(local_app.args)
        # same deployments in the graph; the cluster only changes sizes and placement
        assert (cluster_args.chat_gguf is None) == (local_args.chat_gguf is None)
        assert cluster_args.app_name == local_args.app_name == cluster_app.name
    assert embedded.http_options.port == local.http_options.port

    # the cluster's shape comes from its settings, through the same derivation
    cluster = resolve_app_args(embedded.applications[0].args or {})
    assert cluster.ingress.num_replicas == 2 and cluster.ingress.num_cpus == 0.5
    assert cluster.chat_gguf is not None
    chat = cluster.chat_gguf.serve_options()
    assert chat["autoscaling_config"]["max_replicas"] == 4
    assert chat["ray_actor_options"]["num_gpus"] == 1
    assert chat["max_ongoing_requests"] == 32 and chat["max_queued_requests"] == 128


def test_cluster_secrets_are_not_in_the_manifest() -> None:
    text = (REPO / "configs" / "kuberay" / "rayservice.yaml").read_text()
    for secret in ("LMWEBUI_JWT_SECRET:", "LMWEBUI_FERNET_KEY:", "password"):
        assert secret not in text
