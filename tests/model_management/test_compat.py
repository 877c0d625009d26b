"""The memory estimate and the choice of GPU/node and quantization."""

from __future__ import annotations

from lmwebui.models.compat import MIB, best_targets, estimate_memory, recommend
from lmwebui.models.metadata import read_gguf_info
from tests.support.models import bundled_model_path


def test_estimate_matches_llama_cpp_buffers_for_the_bundled_model() -> None:
    info = read_gguf_info(bundled_model_path())
    est = estimate_memory(info, n_slots=4, n_ctx_per_slot=1024)
    # llama.cpp reports for this model and shape: KV 72 MiB, output 4 MiB, compute 519.5 MiB
    assert est["kv_cache"] == 72 * MIB and est["output"] == 4 * MIB
    assert abs(est["compute"] - 519.5 * MIB) < MIB
    assert est["weights"] == info.tensor_bytes and est["total"] == sum(
        v for k, v in est.items() if k != "total"
    )


def test_best_single_gpu_is_not_a_sum() -> None:
    nodes = [
        {
            "hostname": "a",
            "ram_available_mb": 1000,
            "gpus": [
                {"name": "g", "total_mb": 800, "free_mb": 600},
                {"name": "g", "total_mb": 800, "free_mb": 700},
            ],
        },
        {
            "hostname": "b",
            "ram_available_mb": 5000,
            "gpus": [
                {"name": "h", "total_mb": 900, "free_mb": 650},
            ],
        },
    ]
    gpu, ram = best_targets(nodes)
    assert gpu is not None and gpu["free_mb"] == 700 and gpu["node"] == "a"
    assert ram is not None and ram["hostname"] == "b"
    assert best_targets([]) == (None, None)


def test_recommendation() -> None:
    info = read_gguf_info(bundled_model_path())  # 268M parameters
    repo = {"Q2_K": 100 * MIB, "Q4_K_M": 200 * MIB, "Q8_0": 300 * MIB, "F16": 600 * MIB}
    assert recommend(info, 0, 10_000, repo) == ("Q8_0", "repository")  # never F16 by default
    assert recommend(info, 0, 260, repo) == ("Q4_K_M", "repository")
    assert recommend(info, 0, 10, repo) == ("Q2_K", "repository")  # nothing fits: smallest
    quant, source = recommend(info, 0, 10_000, None)
    assert (quant, source) == ("Q8_0", "estimate")
    # 170 MiB x 0.9 = 153 MiB: Q4_K_M (155 MiB) does not fit, Q4_K_S (146 MiB) does
    assert recommend(info, 0, 170, None) == ("Q4_K_S", "estimate")
