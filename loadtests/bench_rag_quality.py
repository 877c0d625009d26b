"""Retrieval quality and OCR accuracy.

    python loadtests/bench_rag_quality.py recall   # recall@5: dense, BM25, hybrid
    python loadtests/bench_rag_quality.py ocr      # character accuracy on rendered text

recall: the labelled set of loadtests/rag_corpus.py is ingested through RagService (real
docling, chunker, embedding model and Milvus Lite), then every question is searched with
each mode; recall@5 = relevant sections in the top 5 ÷ min(5, relevant sections).
ocr: lines rendered with Pillow (DejaVu Sans) at several sizes, as PNG and as a JPEG
(quality 60) and inside a scanned PDF; accuracy = 1 - character error rate (Levenshtein).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lmwebui.rag.backends import build_local_backends
from lmwebui.settings import Settings
from loadtests.bench_rag import make_service
from loadtests.rag_corpus import build
from tests.documents import samples as S


def cmd_recall(_args: argparse.Namespace) -> None:
    md, questions = build()
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="bench-recall-")))
    backends = build_local_backends(settings)

    async def run() -> dict[tuple[str, str], list[float]]:
        service, db = await make_service(settings, backends)
        res = await service.ingest(1, "handbook.md", md.encode())
        print(f"ingested {res.chunks_created} chunks, {len(questions)} questions")
        scores: dict[tuple[str, str], list[float]] = {}
        for q in questions:
            for mode in ("dense", "bm25", "hybrid"):
                hits = await service.search(1, q.text, 5, None, mode)  # type: ignore[arg-type]
                found = {m for m in q.relevant if any(_has(h.text, m) for h in hits)}
                recall = len(found) / min(5, len(q.relevant))
                scores.setdefault((q.kind, mode), []).append(recall)
                if q.kind == "exact":
                    top1 = bool(hits) and any(_has(hits[0].text, m) for m in q.relevant)
                    scores.setdefault(("exact@1", mode), []).append(float(top1))
        await db.dispose()
        return scores

    scores = asyncio.run(run())
    print("\n### Retrieval quality: recall@5\n")
    print("| questions | n | dense | BM25 | hybrid (RRF) |")
    print("| --- | --- | --- | --- | --- |")
    for kind in ("exact", "catalogue", "paraphrase", "all", "exact@1"):
        row = []
        for mode in ("dense", "bm25", "hybrid"):
            vals = [
                v
                for (k, m), vs in scores.items()
                if m == mode and (k == kind or (kind == "all" and k != "exact@1"))
                for v in vs
            ]
            row.append(f"{statistics.mean(vals):.3f}")
        n = len(scores[(kind, "dense")]) if kind != "all" else len(questions)
        label = "exact, top-1 hit rate" if kind == "exact@1" else kind
        print(f"| {label} | {n} | {' | '.join(row)} |")


def _has(text: str, marker: str) -> bool:
    """The section of ``marker`` (its heading names it, e.g. "(RX-220)"; catalogue sections
    list their codes as "Part CODE")."""
    return f"({marker})" in text or f"Part {marker} " in text


LINES = [
    "Invoice 2024-0117 total 1,250.00 EUR due 15 March",
    "The quick brown fox jumps over the lazy dog.",
    "Meeting moved to room B12 at 10:30 on Thursday",
    "Order #88341: 3 x cables, 2 x adapters (USB-C)",
    "Call Dr. Alice Meyer at +49 30 1234 5678",
    "Warranty covers parts and labour for 36 months",
    "Password must contain 12 characters & a digit",
    "Shipment ETA: 2026-11-30, tracking ZX9981QK",
    "Temperature range -20 C to 55 C, humidity 85%",
    "Section 4.2(b) applies to all subcontractors",
]


def levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def norm(text: str) -> str:
    return " ".join(text.split())


def cmd_ocr(args: argparse.Namespace) -> None:
    from PIL import Image

    from lmwebui.documents.processor import DocumentProcessor
    from lmwebui.rag_settings import RagSettings

    proc = DocumentProcessor(RagSettings())
    rng = random.Random(5)
    rows: dict[str, list[float]] = {}
    for size in args.sizes:
        for trial in range(args.images):
            lines = rng.sample(LINES, 5)
            img = S.text_image(lines, size=size, width=int(size * 30))
            truth = norm(" ".join(lines))
            variants: dict[str, bytes] = {"PNG": S.image_bytes(img)}
            buf = io.BytesIO()
            img.convert("RGB").save(buf, "JPEG", quality=60)
            variants["JPEG q60"] = buf.getvalue()
            if trial == 0:
                page = Image.new("RGB", (1240, 1754), "white")  # A4 at 150 dpi
                page.paste(img.resize((1100, int(img.height * 1100 / img.width))), (70, 100))
                variants["scanned PDF"] = S.scanned_pdf([page])
            for kind, data in variants.items():
                if kind == "scanned PDF":
                    text = proc.extract(data, "scan.pdf").text()
                else:
                    text = proc.image(data, "x").ocr_text
                cer = levenshtein(norm(text), truth) / len(truth)
                rows.setdefault(f"{size}px|{kind}", []).append(max(0.0, 1 - cer))
    print("\n### OCR character accuracy (RapidOCR PP-OCR models from the wheel)\n")
    print("| text height | input | images | accuracy (median) | worst |")
    print("| --- | --- | --- | --- | --- |")
    for key, vals in rows.items():
        size, kind = key.split("|")
        print(
            f"| {size} | {kind} | {len(vals)} | {statistics.median(vals):.3f} | {min(vals):.3f} |"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("recall")
    a = sub.add_parser("ocr")
    a.add_argument("--sizes", type=int, nargs="+", default=[18, 24, 36])
    a.add_argument("--images", type=int, default=3)
    args = p.parse_args()
    {"recall": cmd_recall, "ocr": cmd_ocr}[args.cmd](args)


if __name__ == "__main__":
    main()
