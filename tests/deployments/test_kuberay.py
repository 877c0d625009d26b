"""The KubeRay manifest's embedded Serve config agrees with serve_config.yaml."""

from __future__ import annotations

from pathlib import Path

import yaml

from deployments.config import AppArgs

REPO = Path(__file__).resolve().parents[2]


def test_rayservice_serve_config_matches_serve_config_yaml() -> None:
    from ray.serve.schema import ServeDeploySchema

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
        assert cluster_args.ingress.num_replicas == local_args.ingress.num_replicas
    assert embedded.http_options.port == local.http_options.port


def test_cluster_secrets_are_not_in_the_manifest() -> None:
    text = (REPO / "configs" / "kuberay" / "rayservice.yaml").read_text()
    for secret in ("LMWEBUI_JWT_SECRET:", "LMWEBUI_FERNET_KEY:", "password"):
        assert secret not in text
