"""build_app arguments: serve_config.yaml validates, and unset fields follow the settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from deployments.app import build_app
from deployments.config import AppArgs, resolve_app_args
from lmwebui.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]


def serve_config_args() -> dict[str, Any]:
    """The application args exactly as `serve run`/`serve deploy` hand them to build_app."""
    from ray.serve.schema import ServeDeploySchema

    raw = yaml.safe_load((REPO / "serve_config.yaml").read_text())
    app_cfg = ServeDeploySchema.model_validate(raw).applications[0]
    assert app_cfg.import_path == "deployments.app:build_app"
    assert app_cfg.args is not None
    return dict(app_cfg.args)


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMWEBUI_DATA_DIR", str(tmp_path / "data"))


def test_serve_config_is_accepted_by_serve_schema_and_build_app() -> None:
    args = serve_config_args()
    AppArgs.model_validate(args)
    assert build_app(args) is not None


def test_serve_config_and_cli_build_the_same_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMWEBUI_INGRESS_REPLICAS", "3")
    monkeypatch.setenv("LMWEBUI_CHAT__MAX_REPLICAS", "5")
    monkeypatch.setenv("LMWEBUI_RAG__ENABLED", "false")
    from_yaml = resolve_app_args(serve_config_args())
    from_cli = resolve_app_args(AppArgs.from_settings(load_settings()))
    assert from_yaml == from_cli
    assert from_yaml.ingress.num_replicas == 3
    assert from_yaml.embedder is None


def test_serve_deploy_follows_env_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """LMWEBUI_CHAT__* reach a `serve deploy serve_config.yaml` graph, not just the CLI's."""
    monkeypatch.setenv("LMWEBUI_CHAT__REPLICAS", "2")
    monkeypatch.setenv("LMWEBUI_CHAT__N_SLOTS", "4")
    args = resolve_app_args(serve_config_args())
    assert args.chat_gguf is not None
    opts = args.chat_gguf.serve_options()
    assert opts["num_replicas"] == 2
    assert (opts["max_ongoing_requests"], opts["max_queued_requests"]) == (8, 32)
    assert opts["request_router_config"].request_router_kwargs == {"saturated_at": 4}
    # the replicas get the settings (replicas on other nodes do not inherit the env)
    assert load_settings(**args.settings).chat.n_slots == 4

    app = build_app(serve_config_args())
    chat = _deployment(app, "ChatGGUF")
    assert (chat.num_replicas, chat.max_ongoing_requests) == (2, 8)
    (replica_settings,) = chat.init_args
    assert load_settings(**replica_settings).chat.n_slots == 4


def _deployment(app: Any, name: str) -> Any:
    """The bound deployment ``name`` in the graph under the ingress application."""
    ingress = app._bound_deployment
    handles = ingress.init_args[2]
    return handles[name]._bound_deployment


def test_given_fields_win_over_derived_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMWEBUI_CHAT__REPLICAS", "2")
    monkeypatch.setenv("LMWEBUI_CHAT__N_SLOTS", "4")
    fixed = resolve_app_args({"chat_gguf": {"num_replicas": 3, "num_cpus": 1}})
    assert fixed.chat_gguf is not None
    opts = fixed.chat_gguf.serve_options()
    assert opts["num_replicas"] == 3 and opts["ray_actor_options"]["num_cpus"] == 1
    assert opts["max_ongoing_requests"] == 8  # not given: still from chat.n_slots

    scaled = resolve_app_args({"chat_gguf": {"autoscaling": {"max_replicas": 6}}})
    assert scaled.chat_gguf is not None
    scaling = scaled.chat_gguf.serve_options()["autoscaling_config"]
    assert (scaling["min_replicas"], scaling["max_replicas"]) == (2, 6)
    assert scaling["target_ongoing_requests"] == 4  # n_slots

    plain = resolve_app_args({"chat_gguf": {"request_router": None}})
    assert plain.chat_gguf is not None
    assert "request_router_config" not in plain.chat_gguf.serve_options()
    assert resolve_app_args({"chat_gguf": None}).chat_gguf is None
    # settings given in the args are merged over (and reach) the derived ones
    merged = resolve_app_args({"settings": {"chat": {"n_slots": 2}}})
    assert merged.settings["chat"]["n_slots"] == 2 and merged.settings["chat"]["replicas"] == 2
    assert merged.chat_gguf is not None and merged.chat_gguf.max_ongoing_requests == 4


def test_a_bad_setting_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMWEBUI_CHAT__N_SLOTS", "0")
    with pytest.raises(ValueError, match="LMWEBUI_CHAT__N_SLOTS"):
        resolve_app_args(serve_config_args())


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


def test_settings_place_and_autoscale_chat_replicas() -> None:
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
    chat = AppArgs.from_settings(settings).chat_gguf
    assert chat is not None
    opts = chat.serve_options()
    assert opts["ray_actor_options"] == {"num_cpus": 0, "num_gpus": 1, "accelerator_type": "L4"}
    scaling = opts["autoscaling_config"]
    assert (scaling["min_replicas"], scaling["max_replicas"]) == (1, 3)
    assert scaling["target_ongoing_requests"] == 4  # n_slots unless set
    assert scaling["downscale_delay_s"] == 10
    assert opts["max_queued_requests"] == 32  # bounded: a full queue is a 503

    default = AppArgs.from_settings(Settings()).chat_gguf
    assert default is not None
    fixed = default.serve_options()
    assert fixed["num_replicas"] == 1 and fixed["ray_actor_options"] == {"num_cpus": 0}


def test_hub_endpoint_reaches_replicas_on_other_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers on other nodes do not inherit the driver's HF_ENDPOINT: it travels in args."""
    monkeypatch.setenv("HF_ENDPOINT", "http://hub.internal:8080")
    args = AppArgs.from_settings(Settings())
    assert args.settings["gguf"]["hub_endpoint"] == "http://hub.internal:8080"
    monkeypatch.delenv("HF_ENDPOINT")
    assert AppArgs.from_settings(Settings()).settings["gguf"]["hub_endpoint"] is None


def test_database_password_is_not_in_serve_args(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = Settings(database_url="postgresql+asyncpg://app:s3cret@db:5432/lmwebui")
    assert "database_url" not in AppArgs.from_settings(secret).settings
    plain = Settings(database_url="postgresql+asyncpg://app@db:5432/lmwebui")
    assert AppArgs.from_settings(plain).settings["database_url"].endswith("@db:5432/lmwebui")
    # nor when `serve deploy` derives the args from the head node's environment
    monkeypatch.setenv("LMWEBUI_DATABASE_URL", "postgresql+asyncpg://app:s3cret@db:5432/x")
    monkeypatch.setenv("LMWEBUI_JWT_SECRET", "j" * 40)
    resolved = resolve_app_args(serve_config_args())
    assert "s3cret" not in resolved.model_dump_json()
    assert "j" * 40 not in resolved.model_dump_json()
