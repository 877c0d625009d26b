"""GGUF header reading: real files written with the `gguf` package, and broken ones."""

from __future__ import annotations

import struct
from pathlib import Path

import gguf
import pytest

from lmwebui.models.metadata import InvalidGGUF, quantization_from_name, read_gguf_info, split_part
from tests.support.gguf_files import write_gguf
from tests.support.models import bundled_model_path


def test_reads_what_the_gguf_package_wrote(tmp_path: Path) -> None:
    path = write_gguf(
        tmp_path / "m.gguf",
        data_bytes=128 * 1024,
        context_length=4096,
        block_count=3,
        head_count_kv=2,
        file_type=gguf.LlamaFileType.MOSTLY_Q5_K_M,
        name="Mini",
    )
    info = read_gguf_info(path)
    reader = gguf.GGUFReader(str(path))
    assert info.parameter_count == sum(int(t.n_elements) for t in reader.tensors)
    assert info.tensor_count == len(reader.tensors)
    assert info.architecture == "llama" and info.name == "Mini"
    assert info.quantization == "Q5_K_M" and info.context_length == 4096
    assert info.block_count == 3 and info.head_count_kv == 2 and info.vocab_size == 32
    assert info.key_length == 64 // 4  # embedding / heads when the key length is absent


def test_bundled_model_header() -> None:
    info = read_gguf_info(bundled_model_path())
    assert info.architecture == "gemma3" and info.quantization == "Q4_K_M"
    assert info.parameter_count == 268_098_176 and info.context_length == 32768
    assert info.vocab_size == 262_144 and info.block_count == 18


def test_broken_files_are_rejected(tmp_path: Path) -> None:
    good = write_gguf(tmp_path / "good.gguf").read_bytes()
    cases = {
        "empty": b"",
        "text": b"hello world, certainly not a model" * 10,
        "magic-only": b"GGUF",
        "version-1": good[:4] + struct.pack("<I", 1) + good[8:],
        "version-99": good[:4] + struct.pack("<I", 99) + good[8:],
        "huge-counts": good[:8] + struct.pack("<QQ", 2**62, 2**62) + good[24:],
        "truncated-header": good[:100],
        "truncated-data": good[: len(good) - 1000],
    }
    for name, data in cases.items():
        path = tmp_path / f"{name}.gguf"
        path.write_bytes(data)
        with pytest.raises(InvalidGGUF):
            read_gguf_info(path)


def test_names() -> None:
    assert quantization_from_name("llama-2-7b.Q4_K_M.gguf") == "Q4_K_M"
    assert quantization_from_name("model-IQ4_XS.gguf") == "IQ4_XS"
    assert quantization_from_name("x.q8_0.gguf") == "Q8_0"
    assert quantization_from_name("model-fp16.gguf") == "F16"
    assert quantization_from_name("plain.gguf") is None
    assert split_part("big-Q4_K_M-00002-of-00005.gguf") == (2, 5)
    assert split_part("big-Q4_K_M.gguf") is None
