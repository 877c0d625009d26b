"""How far vLLM on the converted folder agrees with llama.cpp on the bundled GGUF.

Greedy (temperature 0) continuations of the same raw prompts, compared token by token:

    .venv-vllm/bin/python loadtests/vllm_parity.py vllm > /tmp/vllm.json
    .venv/bin/python loadtests/vllm_parity.py llama > /tmp/llama.json
    .venv/bin/python loadtests/vllm_parity.py compare /tmp/llama.json /tmp/vllm.json

The folder holds the GGUF's Q4_K_M weights dequantized to bf16, and llama.cpp computes on
the quantized blocks, so the two agree until a near-tie of the top logits goes the other way.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PROMPTS = [
    "<start_of_turn>user\nWhat is the capital of France?<end_of_turn>\n<start_of_turn>model\n",
    "<start_of_turn>user\nWrite a haiku about the sea.<end_of_turn>\n<start_of_turn>model\n",
    "<start_of_turn>user\nCount from one to ten in words.<end_of_turn>\n<start_of_turn>model\n",
    "<start_of_turn>user\nExplain what a CPU does.<end_of_turn>\n<start_of_turn>model\n",
    "The quick brown fox",
    "Once upon a time, in a small village,",
    "def fibonacci(n):",
    "The three primary colours are",
]
TOKENS = 32


def run_vllm(model: str) -> list[list[int]]:
    import os

    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    from vllm import LLM, SamplingParams
    from vllm.inputs import TokensPrompt

    llm = LLM(model=model, dtype="bfloat16", max_model_len=2048, enforce_eager=True)
    tok = llm.get_tokenizer()
    params = SamplingParams(temperature=0, max_tokens=TOKENS, ignore_eos=True)
    prompts = [
        TokensPrompt(prompt_token_ids=[2, *tok.encode(p, add_special_tokens=False)])
        for p in PROMPTS
    ]
    outs = llm.generate(prompts, params)
    return [list(o.outputs[0].token_ids) for o in outs]


def run_llama() -> list[list[int]]:
    from llama_cpp import Llama

    from lmwebui.models.files import ensure_bundled_model

    path = ensure_bundled_model(Path("/tmp/lmwebui-parity-models"))
    llm = Llama(model_path=str(path), n_ctx=2048, n_threads=2, verbose=False)
    result = []
    for prompt in PROMPTS:
        ids = llm.tokenize(prompt.encode(), add_bos=True, special=True)
        llm.reset()
        out: list[int] = []
        for token in llm.generate(ids, temp=0.0, top_k=1):
            out.append(int(token))
            if len(out) == TOKENS:
                break
        result.append(out)
    return result


def compare(a_path: str, b_path: str) -> None:
    a, b = json.loads(Path(a_path).read_text()), json.loads(Path(b_path).read_text())
    prefixes = []
    for x, y in zip(a, b, strict=True):
        n = next((i for i, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), len(x))
        prefixes.append(n)
    print(
        json.dumps(
            {
                "tokens": TOKENS,
                "agreeing_prefix": prefixes,
                "identical": sum(p == TOKENS for p in prefixes),
                "prompts": len(prefixes),
            }
        )
    )


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "vllm":
        from lmwebui.vllm_model import DEFAULT_OUT

        print(json.dumps(run_vllm(sys.argv[2] if len(sys.argv) > 2 else str(DEFAULT_OUT))))
    elif what == "llama":
        print(json.dumps(run_llama()))
    else:
        compare(sys.argv[2], sys.argv[3])
