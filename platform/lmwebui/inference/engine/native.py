"""Thin typed layer over the llama.cpp C API (via llama-cpp-python's ctypes bindings).

Everything here is synchronous. The model/vocab helpers are thread-safe (they only read
the vocabulary); the context, batch and samplers are owned by the scheduler thread.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

import llama_cpp
import numpy as np
import numpy.typing as npt

from .datatypes import EngineConfig, SamplingParams

_BACKEND_LOCK = threading.Lock()
_BACKEND_READY = False
_INT32 = 4  # sizeof(llama_seq_id)


_LLAMA_LOG = logging.getLogger("lmwebui.inference.llama_cpp")
# ggml_log_level: NONE=0 DEBUG=1 INFO=2 WARN=3 ERROR=4 CONT=5 (continues the previous line)
_LOG_LEVELS = {0: logging.DEBUG, 1: logging.DEBUG, 2: logging.DEBUG, 3: logging.WARNING}
_last_level = logging.DEBUG


def _log_to_python(level: int, text: bytes, _user: Any) -> None:
    global _last_level
    lvl = _last_level if level == 5 else _LOG_LEVELS.get(level, logging.ERROR)
    _last_level = lvl
    if _LLAMA_LOG.isEnabledFor(lvl):
        msg = text.decode("utf-8", errors="replace").rstrip("\n")
        if msg:
            _LLAMA_LOG.log(lvl, "%s", msg)


_LOG_CALLBACK = llama_cpp.llama_log_callback(_log_to_python)


def _init_backend(verbose: bool) -> None:
    global _BACKEND_READY
    with _BACKEND_LOCK:
        if not verbose:
            # Process-wide (llama.cpp has one log sink): route llama.cpp's chatter into
            # Python logging (INFO and below as DEBUG) instead of raw stderr.
            llama_cpp.llama_log_set(_LOG_CALLBACK, ctypes.c_void_p(0))
        if not _BACKEND_READY:
            llama_cpp.llama_backend_init()
            _BACKEND_READY = True


class NativeModel:
    """A loaded GGUF model plus its vocabulary (tokenizer/detokenizer, metadata)."""

    def __init__(self, config: EngineConfig) -> None:
        _init_backend(config.verbose)
        if not os.path.isfile(config.model_path):
            raise FileNotFoundError(config.model_path)
        params = llama_cpp.llama_model_default_params()
        params.n_gpu_layers = config.n_gpu_layers
        if config.deterministic:
            # Repacked K-quant weights use a 4-row GEMM for full row groups and a GEMV for the
            # remainder, so a row's result depends on its index in the batch. Plain layout only.
            params.use_extra_bufts = False
        model = llama_cpp.llama_model_load_from_file(config.model_path.encode("utf-8"), params)
        if not model:
            raise RuntimeError(f"failed to load model from {config.model_path}")
        self.ptr: Any = model
        self.vocab: Any = llama_cpp.llama_model_get_vocab(model)
        self.n_vocab: int = int(llama_cpp.llama_vocab_n_tokens(self.vocab))
        bos = int(llama_cpp.llama_vocab_bos(self.vocab))
        self.filler_token = bos if bos >= 0 else 0  # any valid id works for padding rows
        self._piece_cache: dict[int, bytes] = {}
        self.metadata = self._read_metadata()

    def _read_metadata(self) -> dict[str, str]:
        out: dict[str, str] = {}
        size = 4096
        buf = ctypes.create_string_buffer(size)

        def read(fn: Any, i: int) -> str:
            nonlocal size, buf
            n = int(fn(self.ptr, i, buf, size))
            if n >= size:
                size = n + 1
                buf = ctypes.create_string_buffer(size)
                n = int(fn(self.ptr, i, buf, size))
            return bytes(buf.raw[: max(n, 0)]).decode("utf-8", errors="replace")

        for i in range(int(llama_cpp.llama_model_meta_count(self.ptr))):
            key = read(llama_cpp.llama_model_meta_key_by_index, i)
            out[key] = read(llama_cpp.llama_model_meta_val_str_by_index, i)
        return out

    def is_eog(self, token: int) -> bool:
        return bool(llama_cpp.llama_vocab_is_eog(self.vocab, token))

    def tokenize(self, text: str, *, add_bos: bool, special: bool) -> list[int]:
        data = text.encode("utf-8")
        cap = len(data) + 8
        arr = (llama_cpp.llama_token * cap)()
        n = int(llama_cpp.llama_tokenize(self.vocab, data, len(data), arr, cap, add_bos, special))
        if n < 0:
            cap = -n
            arr = (llama_cpp.llama_token * cap)()
            n = int(
                llama_cpp.llama_tokenize(self.vocab, data, len(data), arr, cap, add_bos, special)
            )
            if n < 0:
                raise RuntimeError("tokenization failed")
        return list(arr[:n])

    def piece(self, token: int) -> bytes:
        """Raw bytes of one token as it appears in running text (control tokens -> b"")."""
        cached = self._piece_cache.get(token)
        if cached is not None:
            return cached
        size = 64
        buf = ctypes.create_string_buffer(size)
        n = int(llama_cpp.llama_token_to_piece(self.vocab, token, buf, size, 0, False))
        if n < 0:
            size = -n
            buf = ctypes.create_string_buffer(size)
            n = int(llama_cpp.llama_token_to_piece(self.vocab, token, buf, size, 0, False))
        out = bytes(buf.raw[: max(n, 0)])
        self._piece_cache[token] = out
        return out

    def detokenize(self, tokens: Sequence[int], *, special: bool = False) -> str:
        n_tok = len(tokens)
        if n_tok == 0:
            return ""
        arr = (llama_cpp.llama_token * n_tok)(*tokens)
        cap = n_tok * 8 + 16
        buf = ctypes.create_string_buffer(cap)
        n = int(llama_cpp.llama_detokenize(self.vocab, arr, n_tok, buf, cap, False, special))
        if n < 0:
            cap = -n
            buf = ctypes.create_string_buffer(cap)
            n = int(llama_cpp.llama_detokenize(self.vocab, arr, n_tok, buf, cap, False, special))
        return bytes(buf.raw[: max(n, 0)]).decode("utf-8", errors="replace")

    def close(self) -> None:
        if self.ptr is not None:
            llama_cpp.llama_model_free(self.ptr)
            self.ptr = None


class NativeContext:
    """The llama_context: one KV stream per sequence (``kv_unified=False``)."""

    def __init__(
        self, model: NativeModel, config: EngineConfig, n_streams: int, n_batch: int
    ) -> None:
        n_threads, n_threads_single = config.resolved_threads()
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_streams * config.n_ctx_per_slot
        params.n_batch = n_batch
        params.n_ubatch = n_batch
        params.n_seq_max = n_streams
        # llama.cpp runs a batch of one token on n_threads and larger batches (several
        # sequences, prefill) on n_threads_batch.
        params.n_threads = n_threads_single
        params.n_threads_batch = n_threads
        # Separate streams: a sequence only attends over its own cells (cheap attention at
        # long contexts, and cell index == position, which batch-invariance relies on).
        params.kv_unified = False
        # Full-size SWA cache: otherwise positions that slid out of the window are dropped
        # and a cached prefix cannot be truncated and extended (prefix reuse breaks).
        params.swa_full = True
        flash = config.flash_attn or config.deterministic
        params.flash_attn_type = (
            llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED
            if flash
            else llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        )
        params.no_perf = True
        ctx = llama_cpp.llama_init_from_model(model.ptr, params)
        if not ctx:
            raise RuntimeError("failed to create llama context")
        self.ptr: Any = ctx
        self.memory: Any = llama_cpp.llama_get_memory(ctx)
        self.n_ctx_seq = int(llama_cpp.llama_n_ctx_seq(ctx))

    def seq_rm(self, seq: int, p0: int, p1: int = -1) -> bool:
        return bool(llama_cpp.llama_memory_seq_rm(self.memory, seq, p0, p1))

    def decode(self, batch: Batch) -> int:
        return int(llama_cpp.llama_decode(self.ptr, batch.struct))

    def logits(self, row: int, n_vocab: int) -> npt.NDArray[np.float32]:
        """The logits of batch row ``row`` of the last decode (a view: read it before the
        next decode)."""
        return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self.ptr, row), (n_vocab,))

    def close(self) -> None:
        if self.ptr is not None:
            llama_cpp.llama_free(self.ptr)
            self.ptr = None


class Batch:
    """A reusable llama_batch whose arrays are numpy buffers (filled without per-token ctypes)."""

    def __init__(self, capacity: int, n_streams: int) -> None:
        self.capacity = capacity
        self.n = 0
        self.token: npt.NDArray[np.int32] = np.zeros(capacity, dtype=np.int32)
        self.pos: npt.NDArray[np.int32] = np.zeros(capacity, dtype=np.int32)
        self.n_seq_id: npt.NDArray[np.int32] = np.ones(capacity, dtype=np.int32)
        self.logits: npt.NDArray[np.int8] = np.zeros(capacity, dtype=np.int8)
        self.seq_ptr: npt.NDArray[np.uintp] = np.zeros(capacity, dtype=np.uintp)
        self._seq_table: npt.NDArray[np.int32] = np.arange(n_streams, dtype=np.int32)
        self._seq_base = int(self._seq_table.ctypes.data)
        b: Any = llama_cpp.llama_batch()
        b.token = self.token.ctypes.data_as(ctypes.POINTER(llama_cpp.llama_token))
        b.embd = None
        b.pos = self.pos.ctypes.data_as(ctypes.POINTER(llama_cpp.llama_pos))
        b.n_seq_id = self.n_seq_id.ctypes.data_as(ctypes.POINTER(ctypes.c_int32))
        b.seq_id = ctypes.cast(
            ctypes.c_void_p(self.seq_ptr.ctypes.data),
            ctypes.POINTER(ctypes.POINTER(llama_cpp.llama_seq_id)),
        )
        b.logits = self.logits.ctypes.data_as(ctypes.POINTER(ctypes.c_int8))
        b.n_tokens = 0
        self.struct: Any = b

    def clear(self) -> None:
        self.n = 0

    def add(self, seq: int, tokens: Sequence[int], pos0: int, want_last: bool) -> int:
        """Append ``tokens`` of sequence ``seq`` at positions pos0...; returns the last row."""
        k = len(tokens)
        a, b = self.n, self.n + k
        if b > self.capacity:
            raise RuntimeError("batch overflow")
        self.token[a:b] = tokens
        self.pos[a:b] = np.arange(pos0, pos0 + k, dtype=np.int32)
        self.seq_ptr[a:b] = self._seq_base + _INT32 * seq
        self.logits[a:b] = 0
        if want_last:
            self.logits[b - 1] = 1
        self.n = b
        return b - 1

    def finalize(self) -> None:
        self.struct.n_tokens = self.n


class GrammarError(ValueError):
    """llama.cpp could not parse a grammar."""


def grammar_sampler(model: NativeModel, grammar: str) -> Any:
    """A llama.cpp grammar sampler (raises GrammarError when the grammar does not parse)."""
    ptr = llama_cpp.llama_sampler_init_grammar(model.vocab, grammar.encode("utf-8"), b"root")
    if not ptr:
        raise GrammarError("the grammar could not be parsed")
    return ptr


def check_grammar(model: NativeModel, grammar: str) -> None:
    llama_cpp.llama_sampler_free(grammar_sampler(model, grammar))


class Sampler:
    """A per-sequence llama.cpp sampler chain (sampling reads the logits in C).

    With a grammar, the chain samples first and the grammar checks only the chosen token;
    only when the grammar rejects it are the logits sampled again with the grammar applied
    to the whole vocabulary (llama.cpp's common_sampler does the same). Checking every
    token of a 262k vocabulary against the grammar on every step costs ~3x the decode of
    the bundled model; the chosen token is allowed most of the time.
    """

    def __init__(self, model: NativeModel, params: SamplingParams, history: Sequence[int]) -> None:
        cparams = llama_cpp.llama_sampler_chain_default_params()
        cparams.no_perf = True
        self.ptr: Any = llama_cpp.llama_sampler_chain_init(cparams)
        self.grammar: Any = None
        try:
            self._build(model, params, history)
            if params.grammar is not None:
                self.grammar = grammar_sampler(model, params.grammar)
                self._cand = _Candidates(model.n_vocab)
        except BaseException:
            self.close()
            raise

    def _build(self, model: NativeModel, params: SamplingParams, history: Sequence[int]) -> None:
        chain = self.ptr
        add = llama_cpp.llama_sampler_chain_add
        if params.logit_bias:
            biases = (llama_cpp.llama_logit_bias * len(params.logit_bias))(
                *(llama_cpp.llama_logit_bias(t, b) for t, b in params.logit_bias)
            )  # copied by llama.cpp
            add(
                chain,
                llama_cpp.llama_sampler_init_logit_bias(model.n_vocab, len(biases), biases),
            )
        penalties = (params.repeat_penalty, params.frequency_penalty, params.presence_penalty)
        if penalties != (1.0, 0.0, 0.0):
            last_n = 64
            add(chain, llama_cpp.llama_sampler_init_penalties(model.n_vocab, last_n, *penalties))
            if params.repeat_penalty != 1.0:  # OpenAI's penalties count generated tokens only
                for tok in history[-last_n:]:
                    llama_cpp.llama_sampler_accept(chain, tok)
        if params.temperature <= 0.0:
            add(chain, llama_cpp.llama_sampler_init_greedy())
            return
        if params.top_k > 0:
            add(chain, llama_cpp.llama_sampler_init_top_k(params.top_k))
        if params.top_p < 1.0:
            add(chain, llama_cpp.llama_sampler_init_top_p(params.top_p, 1))
        if params.min_p > 0.0:
            add(chain, llama_cpp.llama_sampler_init_min_p(params.min_p, 1))
        add(chain, llama_cpp.llama_sampler_init_temp(params.temperature))
        seed = llama_cpp.LLAMA_DEFAULT_SEED if params.seed is None else params.seed
        add(chain, llama_cpp.llama_sampler_init_dist(seed))

    def sample(self, ctx: NativeContext, row: int) -> int:
        if self.grammar is None:
            return int(llama_cpp.llama_sampler_sample(self.ptr, ctx.ptr, row))
        logits = llama_cpp.llama_get_logits_ith(ctx.ptr, row)
        cand = self._cand
        tok = cand.pick(logits, [self.ptr])
        if not cand.allows(self.grammar, tok):
            tok = cand.pick(logits, [self.grammar, self.ptr])
        llama_cpp.llama_sampler_accept(self.grammar, tok)
        llama_cpp.llama_sampler_accept(self.ptr, tok)
        return tok

    def close(self) -> None:
        if self.ptr is not None:
            llama_cpp.llama_sampler_free(self.ptr)
            self.ptr = None
        if self.grammar is not None:
            llama_cpp.llama_sampler_free(self.grammar)
            self.grammar = None


_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])


class _Candidates:
    """A reusable llama_token_data_array over the whole vocabulary (numpy-filled)."""

    def __init__(self, n_vocab: int) -> None:
        self.n = n_vocab
        self.data = np.zeros(n_vocab, dtype=_TOKEN_DATA)
        self.ids = np.arange(n_vocab, dtype=np.int32)
        ptr = ctypes.cast(
            ctypes.c_void_p(self.data.ctypes.data), ctypes.POINTER(llama_cpp.llama_token_data)
        )
        self.arr: Any = llama_cpp.llama_token_data_array(data=ptr, size=n_vocab)
        self.one: Any = (llama_cpp.llama_token_data * 1)()
        self.one_arr: Any = llama_cpp.llama_token_data_array(data=self.one, size=1)

    def pick(self, logits: Any, samplers: list[Any]) -> int:
        """Apply ``samplers`` in order to the row's logits; the selected token (no accept)."""
        self.data["id"] = self.ids
        self.data["logit"] = np.ctypeslib.as_array(logits, shape=(self.n,))
        self.data["p"] = 0.0
        arr = self.arr
        arr.size, arr.selected, arr.sorted = self.n, -1, False
        for smpl in samplers:
            llama_cpp.llama_sampler_apply(smpl, ctypes.byref(arr))
        if not 0 <= arr.selected < arr.size:
            raise RuntimeError("the sampler selected no token")
        return int(arr.data[arr.selected].id)

    def allows(self, grammar: Any, tok: int) -> bool:
        self.one[0].id, self.one[0].logit, self.one[0].p = tok, 0.0, 0.0
        arr = self.one_arr
        arr.size, arr.selected, arr.sorted = 1, -1, False
        llama_cpp.llama_sampler_apply(grammar, ctypes.byref(arr))
        return bool(np.isfinite(self.one[0].logit))
