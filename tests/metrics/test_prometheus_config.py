"""The shipped Prometheus config is valid as shipped, and as `lmwebui observe` renders it
(#13 finding 9): `promtool check config` on both (skipped where promtool is missing;
`make sysdeps` installs it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from lmwebui.observe import CONFIG_DIR, RAY_DASHBOARD_TARGETS, render_config, targets_file
from tests.support.app import make_settings

needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason="no promtool")


def promtool_check(config: Path) -> str:
    out = subprocess.run(
        ["promtool", "check", "config", str(config)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout + out.stderr


@needs_promtool
def test_the_shipped_config_passes_promtool(tmp_path: Path) -> None:
    """As shipped, but with Ray's service-discovery file (which promtool opens, and which
    exists only where a Ray head with the dashboard ran) at a path of this test's own."""
    shipped = (CONFIG_DIR / "prometheus.yml").read_text()
    assert f"- {RAY_DASHBOARD_TARGETS}\n" in shipped
    targets = tmp_path / "ray_targets.json"
    targets.write_text("[]")
    config = tmp_path / "prometheus.yml"
    config.write_text(shipped.replace(str(RAY_DASHBOARD_TARGETS), str(targets)))
    shutil.copy(CONFIG_DIR / "rules.yml", tmp_path / "rules.yml")
    report = promtool_check(config)
    assert "SUCCESS" in report and "rules found" in report


@needs_promtool
def test_the_rendered_config_passes_promtool_and_reads_our_targets(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    rendered = render_config(settings)
    text = rendered.read_text()
    assert f"- {targets_file(settings)}\n" in text
    assert f"- {RAY_DASHBOARD_TARGETS}" not in text  # replaced where it is listed
    targets_file(settings).write_text('[{"labels": {"job": "ray"}, "targets": []}]')
    report = promtool_check(rendered)
    assert "does not exist" not in report
