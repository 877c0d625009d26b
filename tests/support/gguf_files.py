"""Real GGUF files for tests, written with the `gguf` package."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np


def write_gguf(
    path: Path,
    *,
    arch: str = "llama",
    data_bytes: int = 64 * 1024,
    context_length: int = 2048,
    embedding_length: int = 64,
    block_count: int = 2,
    head_count: int = 4,
    head_count_kv: int = 2,
    vocab: int = 32,
    file_type: gguf.LlamaFileType = gguf.LlamaFileType.ALL_F32,
    name: str = "Test Model",
    seed: int = 0,
) -> Path:
    """A small but complete GGUF (header, KV, vocabulary, tensors) of about ``data_bytes``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_name(name)
    writer.add_context_length(context_length)
    writer.add_embedding_length(embedding_length)
    writer.add_block_count(block_count)
    writer.add_head_count(head_count)
    writer.add_head_count_kv(head_count_kv)
    writer.add_file_type(int(file_type))
    writer.add_tokenizer_model("llama")
    writer.add_token_list([f"tok{i}" for i in range(vocab)])
    rng = np.random.default_rng(seed)
    n_floats = max(data_bytes // 4, 64)
    n_floats -= n_floats % 32
    writer.add_tensor("token_embd.weight", rng.random(n_floats, dtype=np.float32))
    writer.add_tensor("output_norm.weight", np.ones(embedding_length, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
