"""serve_config.yaml carries only build_app arguments, and they validate."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from deployments.app import build_app
from deployments.config import AppArgs

REPO = Path(__file__).resolve().parents[2]


def test_serve_config_is_accepted_by_serve_schema_and_build_app() -> None:
    from ray.serve.schema import ServeDeploySchema

    raw = yaml.safe_load((REPO / "serve_config.yaml").read_text())
    schema = ServeDeploySchema.model_validate(raw)
    app_cfg = schema.applications[0]
    assert app_cfg.import_path == "deployments.app:build_app"
    args = AppArgs.model_validate(app_cfg.args)
    assert args.ingress.num_replicas == 2
    assert build_app(app_cfg.args) is not None


def test_bad_args_are_rejected() -> None:
    with pytest.raises(ValidationError):
        AppArgs.model_validate({"ingress": {"num_replicas": 0}})
    with pytest.raises(ValidationError):
        AppArgs.model_validate({"unknown": 1})


def test_autoscaling_options() -> None:
    args = AppArgs.model_validate(
        {"ingress": {"autoscaling": {"min_replicas": 1, "max_replicas": 4}, "num_gpus": 1}}
    )
    opts = args.ingress.serve_options()
    assert "num_replicas" not in opts
    assert opts["autoscaling_config"]["max_replicas"] == 4
    assert opts["ray_actor_options"]["num_gpus"] == 1
