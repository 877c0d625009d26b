"""GGUF header reading: validation and the metadata the platform shows and estimates from.

The `gguf` package's ``GGUFReader`` materialises every array (a 262k-token vocabulary takes
seconds), so this module walks the header itself with the package's type tables: scalar
values are decoded, arrays are skipped (only their length is kept), and the tensor infos are
checked against the file size. A file passes only if its magic, version, every key/value,
every tensor info and every tensor's data range are consistent: a truncated download or a
renamed text file fails here.
"""

from __future__ import annotations

import mmap
import re
import struct
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gguf

SUPPORTED_VERSIONS = (2, 3)
MAX_KV = 1_000_000  # sanity bounds: a corrupt count must not make us loop for hours
MAX_TENSORS = 1_000_000
MAX_STRING = 64 * 1024 * 1024
MAX_DIMS = 8

_SCALARS: dict[int, str] = {
    gguf.GGUFValueType.UINT8: "<B",
    gguf.GGUFValueType.INT8: "<b",
    gguf.GGUFValueType.UINT16: "<H",
    gguf.GGUFValueType.INT16: "<h",
    gguf.GGUFValueType.UINT32: "<I",
    gguf.GGUFValueType.INT32: "<i",
    gguf.GGUFValueType.FLOAT32: "<f",
    gguf.GGUFValueType.BOOL: "<?",
    gguf.GGUFValueType.UINT64: "<Q",
    gguf.GGUFValueType.INT64: "<q",
    gguf.GGUFValueType.FLOAT64: "<d",
}

# Quantization names as users know them ("Q4_K_M"), found in file names.
_QUANT_RE = re.compile(
    r"(?<![A-Za-z0-9])(I?Q[1-8]_(?:K_(?:XXS|XS|XL|S|M|L)|K|[01]|(?:XXS|XS|NL|S|M))"
    r"|TQ[12]_0|MXFP4(?:_MOE)?|BF16|F16|F32|FP16|FP32)(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_SPLIT_RE = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)


class InvalidGGUF(ValueError):
    """The file is not a GGUF file this platform can read."""


@dataclass
class GGUFInfo:
    """What the header says; everything the listing and the memory estimate need."""

    version: int
    tensor_count: int
    kv_count: int
    architecture: str | None = None
    name: str | None = None
    size_label: str | None = None
    file_type: int | None = None
    quantization: str | None = None
    parameter_count: int = 0
    tensor_bytes: int = 0
    context_length: int | None = None
    embedding_length: int | None = None
    block_count: int | None = None
    head_count: int | None = None
    head_count_kv: int | None = None
    key_length: int | None = None
    value_length: int | None = None
    vocab_size: int | None = None
    has_chat_template: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GGUFInfo:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def public(self) -> dict[str, Any]:
        """The fields the API shows next to a local model."""
        return {
            "architecture": self.architecture,
            "parameter_count": self.parameter_count,
            "quantization": self.quantization,
            "context_length": self.context_length,
            "model_name": self.name,
            "size_label": self.size_label,
            "gguf_version": self.version,
            "tensor_count": self.tensor_count,
        }


class _Cursor:
    def __init__(self, buf: mmap.mmap | bytes, size: int) -> None:
        self.buf = buf
        self.size = size
        self.pos = 0

    def take(self, n: int) -> int:
        if n < 0 or self.pos + n > self.size:
            raise InvalidGGUF("GGUF header is truncated")
        start = self.pos
        self.pos += n
        return start

    def unpack(self, fmt: str) -> Any:
        start = self.take(struct.calcsize(fmt))
        return struct.unpack_from(fmt, self.buf, start)[0]

    def string(self) -> str:
        length = self.unpack("<Q")
        if length > MAX_STRING:
            raise InvalidGGUF("GGUF header has an implausible string length")
        start = self.take(length)
        return bytes(self.buf[start : start + length]).decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        length = self.unpack("<Q")
        if length > MAX_STRING:
            raise InvalidGGUF("GGUF header has an implausible string length")
        self.take(length)


def _value_type(raw: int) -> int:
    try:
        return int(gguf.GGUFValueType(raw))
    except ValueError:
        raise InvalidGGUF(f"GGUF header has an unknown value type {raw}") from None


def _read_value(cur: _Cursor, vtype: int) -> tuple[Any, int | None]:
    """A scalar/string value, or (None, length) for an array (skipped)."""
    if vtype == gguf.GGUFValueType.STRING:
        return cur.string(), None
    if vtype == gguf.GGUFValueType.ARRAY:
        item_type = _value_type(cur.unpack("<I"))
        count = cur.unpack("<Q")
        if item_type == gguf.GGUFValueType.STRING:
            for _ in range(count):
                cur.skip_string()
        elif item_type == gguf.GGUFValueType.ARRAY:
            for _ in range(count):
                _read_value(cur, gguf.GGUFValueType.ARRAY)
        else:
            cur.take(count * struct.calcsize(_SCALARS[item_type]))
        return None, count
    return cur.unpack(_SCALARS[vtype]), None


def _tensor_nbytes(ggml_type: int, n_elements: int) -> int:
    try:
        qtype = gguf.GGMLQuantizationType(ggml_type)
        block, type_size = gguf.GGML_QUANT_SIZES[qtype]
    except (ValueError, KeyError):
        raise InvalidGGUF(f"GGUF tensor has an unknown type {ggml_type}") from None
    if n_elements % block:
        raise InvalidGGUF("GGUF tensor shape does not fit its quantization block size")
    return n_elements // block * type_size


def file_type_name(file_type: int | None) -> str | None:
    if file_type is None:
        return None
    try:
        name = gguf.LlamaFileType(file_type).name
    except ValueError:
        return None
    if name == "ALL_F32":
        return "F32"
    return name.removeprefix("MOSTLY_") if name != "GUESSED" else None


def quantization_from_name(filename: str) -> str | None:
    """``llama-2-7b.Q4_K_M.gguf`` -> ``Q4_K_M`` (None when the name does not say)."""
    stem = filename.rsplit("/", 1)[-1]
    matches = _QUANT_RE.findall(stem)
    if not matches:
        return None
    quant = str(matches[-1]).upper()
    return {"FP16": "F16", "FP32": "F32"}.get(quant, quant)


def split_part(filename: str) -> tuple[int, int] | None:
    """``x-00001-of-00003.gguf`` -> (1, 3)."""
    m = _SPLIT_RE.search(filename)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _int(meta: dict[str, Any], key: str) -> int | None:
    value = meta.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def parse_header(buf: mmap.mmap | bytes, size: int) -> GGUFInfo:
    cur = _Cursor(buf, size)
    if size < 24 or cur.unpack("<I") != gguf.GGUF_MAGIC:
        raise InvalidGGUF("not a GGUF file (bad magic)")
    version = cur.unpack("<I")
    if version not in SUPPORTED_VERSIONS:
        raise InvalidGGUF(f"unsupported GGUF version {version}")
    n_tensors = cur.unpack("<Q")
    n_kv = cur.unpack("<Q")
    if n_tensors > MAX_TENSORS or n_kv > MAX_KV:
        raise InvalidGGUF("GGUF header has implausible counts")
    meta: dict[str, Any] = {}
    lengths: dict[str, int] = {}
    for _ in range(n_kv):
        key = cur.string()
        value, length = _read_value(cur, _value_type(cur.unpack("<I")))
        if length is None:
            meta[key] = value
        else:
            lengths[key] = length
    tensors: list[tuple[int, int, int]] = []  # (offset, n_elements, type)
    for _ in range(n_tensors):
        cur.skip_string()
        n_dims = cur.unpack("<I")
        if n_dims > MAX_DIMS:
            raise InvalidGGUF("GGUF tensor has too many dimensions")
        n_elements = 1
        for _ in range(n_dims):
            n_elements *= cur.unpack("<Q")
        ggml_type = cur.unpack("<I")
        offset = cur.unpack("<Q")
        tensors.append((offset, n_elements, ggml_type))
    alignment = _int(meta, gguf.Keys.General.ALIGNMENT) or gguf.GGUF_DEFAULT_ALIGNMENT
    if alignment <= 0 or alignment & (alignment - 1):
        raise InvalidGGUF("GGUF alignment must be a power of two")
    data_start = -(-cur.pos // alignment) * alignment
    params = total = 0
    for offset, n_elements, ggml_type in tensors:
        nbytes = _tensor_nbytes(ggml_type, n_elements)
        if offset % alignment or data_start + offset + nbytes > size:
            raise InvalidGGUF("GGUF tensor data lies outside the file (truncated?)")
        params += n_elements
        total += nbytes

    arch = meta.get(gguf.Keys.General.ARCHITECTURE)
    arch = arch if isinstance(arch, str) else None
    file_type = _int(meta, gguf.Keys.General.FILE_TYPE)

    def arch_int(suffix: str) -> int | None:
        return _int(meta, f"{arch}.{suffix}") if arch else None

    head_count = arch_int("attention.head_count")
    embedding = arch_int("embedding_length")
    key_length = arch_int("attention.key_length")
    if key_length is None and head_count and embedding:
        key_length = embedding // head_count
    value_length = arch_int("attention.value_length") or key_length
    head_count_kv = arch_int("attention.head_count_kv") or head_count
    name = meta.get(gguf.Keys.General.NAME)
    size_label = meta.get("general.size_label")
    return GGUFInfo(
        version=version,
        tensor_count=n_tensors,
        kv_count=n_kv,
        architecture=arch,
        name=name if isinstance(name, str) else None,
        size_label=size_label if isinstance(size_label, str) else None,
        file_type=file_type,
        quantization=file_type_name(file_type),
        parameter_count=params,
        tensor_bytes=total,
        context_length=arch_int("context_length"),
        embedding_length=embedding,
        block_count=arch_int("block_count"),
        head_count=head_count,
        head_count_kv=head_count_kv,
        key_length=key_length,
        value_length=value_length,
        vocab_size=lengths.get("tokenizer.ggml.tokens"),
        has_chat_template=isinstance(meta.get("tokenizer.chat_template"), str),
    )


def read_gguf_info(path: Path) -> GGUFInfo:
    """Parse and validate a GGUF file's header (blocking; memory-mapped, reads no weights)."""
    try:
        with path.open("rb") as fh:
            size = path.stat().st_size
            if size == 0:
                raise InvalidGGUF("file is empty")
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                info = parse_header(buf, size)
    except OSError as exc:
        raise InvalidGGUF(f"cannot read file: {exc.strerror or exc}") from None
    if info.quantization is None:
        info.quantization = quantization_from_name(path.name)
    return info
