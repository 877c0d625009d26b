"""The vLLM environment and model the vLLM tests use, made by the project's own Makefile
(`make vllm-model`: builds .venv-vllm once, converts the bundled GGUF once), and the
engine's own metrics as Ray exports them."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.live import REPO

VLLM_PYTHON = REPO / ".venv-vllm" / "bin" / "python"
MODEL_ID = "gemma-3-270m"


@dataclass(frozen=True)
class VLLMSetup:
    python: Path
    model_dir: Path

    def models_setting(self, **extra: object) -> str:
        """LMWEBUI_VLLM__MODELS for one CPU replica of the converted model."""
        model = {
            "model_id": MODEL_ID,
            "model_source": str(self.model_dir),
            "device": "cpu",
            "max_model_len": 2048,
            **extra,
        }
        return json.dumps([model])


def ensure_vllm() -> VLLMSetup:
    """`make vllm-model` (a no-op once done); the model folder it printed."""
    done = subprocess.run(
        ["make", "-s", "vllm-model"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    model_dir = Path(done.stdout.strip().splitlines()[-1])
    assert (model_dir / "config.json").is_file(), done.stdout[-2000:]
    return VLLMSetup(VLLM_PYTHON, model_dir)


def engine_metric(metrics_url: str, name: str) -> float | None:
    """Sum of a vLLM engine metric over its series (``ray_vllm_<name>``); None when Ray
    does not export it at the moment."""
    text = httpx.get(metrics_url, timeout=10).text
    values = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(f"ray_vllm_{name}{{") or line.startswith(f"ray_vllm_{name} ")
    ]
    return sum(values) if values else None


def app_headers(data_dir: Path) -> dict[str, str]:
    """What the platform's ingress sends the vLLM app (its key, from the data dir's
    secrets): for tests and benchmarks that call the app directly."""
    from lmwebui.secrets_store import load_secrets, vllm_key
    from lmwebui.settings import Settings

    return {"Authorization": f"Bearer {vllm_key(load_secrets(Settings(data_dir=data_dir)))}"}
