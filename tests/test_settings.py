"""Settings: YAML defaults, env overrides, one clear line for a bad value, secrets."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from lmwebui.secrets_store import load_secrets
from lmwebui.settings import Settings


def test_defaults_and_env_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LMWEBUI_HTTP_PORT", "9123")
    monkeypatch.setenv("LMWEBUI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LMWEBUI_RATE_LIMITS__CHAT", "7/minute")
    monkeypatch.setenv("LMWEBUI_ADMIN_EMAILS", "a@example.com, b@example.com")
    s = Settings()
    assert s.http_host == "127.0.0.1"
    assert s.http_port == 9123
    assert s.data_dir == tmp_path.resolve()
    assert s.resolved_models_dir == tmp_path.resolve() / "models"
    assert s.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'app.db'}"
    assert s.rate_limits.chat == "7/minute"
    assert s.rate_limits.auth == "10/minute"  # the field default
    assert s.admin_emails == ["a@example.com", "b@example.com"]


def test_default_yaml_repeats_no_field_default() -> None:
    """settings.py is the one source of defaults: configs/default.yaml only holds values
    that differ from them (a repeated one drifts when the field's default changes)."""
    import yaml
    from pydantic import BaseModel

    from lmwebui.settings import DEFAULT_CONFIG_FILE

    def check(model: type[BaseModel], values: dict[str, object], where: str) -> None:
        for key, value in values.items():
            field = model.model_fields[key]
            if isinstance(value, dict) and isinstance(field.annotation, type):
                check(field.annotation, value, f"{where}{key}.")
            else:
                default = field.get_default(call_default_factory=True)
                assert value != default, f"{where}{key}: {value!r} is the field default"

    check(Settings, yaml.safe_load(DEFAULT_CONFIG_FILE.read_text()) or {}, "")


def test_yaml_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("http_port: 9999\nrate_limits:\n  upload: 1/second\n")
    monkeypatch.setenv("LMWEBUI_CONFIG_FILE", str(cfg))
    s = Settings()
    assert s.http_port == 9999 and s.rate_limits.upload == "1/second"


def test_bad_setting_fails_serve_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "LMWEBUI_HTTP_PORT": "not-a-port", "LMWEBUI_DATA_DIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "lmwebui.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "LMWEBUI_HTTP_PORT" in lines[0]


def test_bad_database_url_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="database_url"):
        Settings(data_dir=tmp_path, database_url="mysql://x")


def test_secrets_generated_once_with_0600(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    first = load_secrets(s)
    second = load_secrets(s)
    assert first == second
    for name in ("jwt_secret", "fernet_key"):
        mode = stat.S_IMODE((tmp_path / "secrets" / name).stat().st_mode)
        assert mode == 0o600
    assert "redacted" in repr(first)


def test_given_secrets_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="JWT_SECRET"):
        load_secrets(Settings(data_dir=tmp_path, jwt_secret="short"))
    with pytest.raises(ValueError, match="FERNET_KEY"):
        load_secrets(Settings(data_dir=tmp_path, jwt_secret="x" * 40, fernet_key="nope"))
