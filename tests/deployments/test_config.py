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


def test_cli_settings_place_and_autoscale_chat_replicas() -> None:
    from lmwebui.cli import app_args_from_settings
    from lmwebui.settings import Settings

    settings = Settings(
        chat={
            "replicas": 1,
            "max_replicas": 3,
            "n_slots": 4,
            "num_gpus": 1,
            "accelerator_type": "L4",
            "downscale_delay_s": 10,
        }
    )
    chat = AppArgs.model_validate(app_args_from_settings(settings)).chat_gguf
    assert chat is not None
    opts = chat.serve_options()
    assert opts["ray_actor_options"] == {"num_cpus": 0, "num_gpus": 1, "accelerator_type": "L4"}
    scaling = opts["autoscaling_config"]
    assert (scaling["min_replicas"], scaling["max_replicas"]) == (1, 3)
    assert scaling["target_ongoing_requests"] == 4  # n_slots unless set
    assert scaling["downscale_delay_s"] == 10
    assert opts["max_queued_requests"] == 32  # bounded: a full queue is a 503

    default = AppArgs.model_validate(app_args_from_settings(Settings())).chat_gguf
    assert default is not None
    fixed = default.serve_options()
    assert fixed["num_replicas"] == 1 and fixed["ray_actor_options"] == {"num_cpus": 0}


def test_hub_endpoint_reaches_replicas_on_other_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers on other nodes do not inherit the driver's HF_ENDPOINT: it travels in args."""
    from lmwebui.cli import app_args_from_settings
    from lmwebui.settings import Settings

    monkeypatch.setenv("HF_ENDPOINT", "http://hub.internal:8080")
    args = app_args_from_settings(Settings())
    assert args["settings"]["gguf"]["hub_endpoint"] == "http://hub.internal:8080"
    monkeypatch.delenv("HF_ENDPOINT")
    assert app_args_from_settings(Settings())["settings"]["gguf"]["hub_endpoint"] is None


def test_database_password_is_not_in_serve_args() -> None:
    from lmwebui.cli import app_args_from_settings
    from lmwebui.settings import Settings

    secret = Settings(database_url="postgresql+asyncpg://app:s3cret@db:5432/lmwebui")
    assert "database_url" not in app_args_from_settings(secret)["settings"]
    plain = Settings(database_url="postgresql+asyncpg://app@db:5432/lmwebui")
    assert app_args_from_settings(plain)["settings"]["database_url"].endswith("@db:5432/lmwebui")
