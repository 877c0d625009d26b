"""The vector store behind one interface. MilvusStore speaks pymilvus to either a Milvus
Lite file (``*.db``, in-process, one owner) or a Milvus server (``http://host:19530``).

Every chunk row carries user_id (the partition key), document_id, chunk_id, filename,
page, optional conversation_id, the text, a dense vector and — computed by Milvus's BM25
function from the ``lexical`` field — a sparse vector. Every search and delete is
filtered by user_id in the store's own filter expression.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from lmwebui.rag.lexical import STOP_WORDS
from lmwebui.rag.types import ChunkRecord, StoreHit, StoreQuery

logger = logging.getLogger("lmwebui.rag.store")

_SAFE_ID = re.compile(r"^[A-Za-z0-9_\-:.]{1,64}$")
_OUTPUT = [
    "chunk_id",
    "document_id",
    "conversation_id",
    "filename",
    "page",
    "chunk_index",
    "heading",
    "text",
    "tokens",
]
TEXT_MAX = 65_535


class VectorStore(Protocol):
    def insert(self, records: Sequence[ChunkRecord]) -> int: ...

    def delete_document(self, user_id: int, document_id: str) -> int: ...

    def delete_user(self, user_id: int) -> int: ...

    def search(self, query: StoreQuery) -> list[StoreHit]: ...

    def count(self, user_id: int, document_id: str | None = None) -> int: ...

    def close(self) -> None: ...


def safe_id(value: str) -> str:
    """Ids go into filter expressions: only a strict alphabet is accepted."""
    if not _SAFE_ID.match(value):
        raise ValueError(f"invalid id {value!r}")
    return value


def filter_expr(
    user_id: int,
    *,
    document_id: str | None = None,
    conversation_id: str | None = None,
    exclude: Sequence[str] = (),
) -> str:
    parts = [f"user_id == {int(user_id)}"]
    if document_id is not None:
        parts.append(f'document_id == "{safe_id(document_id)}"')
    if conversation_id is not None:
        parts.append(f'conversation_id == "{safe_id(conversation_id)}"')
    if exclude:
        parts.append(f"document_id not in {json.dumps([safe_id(d) for d in exclude])}")
    return " and ".join(parts)


def _floats(vector: Any) -> list[float]:
    if hasattr(vector, "tolist"):  # numpy rows
        return [float(x) for x in vector.tolist()]
    return [float(x) for x in vector]


def _clip(text: str, max_bytes: int) -> str:
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text
    return raw[:max_bytes].decode("utf-8", errors="ignore")


class MilvusStore:
    """Thread-safe (pymilvus clients are); the collection is created on first insert with
    the dimension of the vectors it receives."""

    def __init__(
        self,
        uri: str,
        *,
        collection: str = "lmwebui_chunks",
        token: str | None = None,
        db_name: str | None = None,
        partitions: int = 16,
        candidates: int = 50,
        rrf_k: int = 60,
    ) -> None:
        from pymilvus import MilvusClient

        kwargs: dict[str, Any] = {"uri": uri}
        if token:
            kwargs["token"] = token
        if db_name:
            kwargs["db_name"] = db_name
        self.uri = uri
        self.client = MilvusClient(**kwargs)
        self.collection = collection
        self.partitions = partitions
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.dim: int | None = None
        # Milvus Lite searches unflushed rows on a slow path (about 10 times slower at 10k rows):
        # seal every write. A Milvus server seals segments itself; flushing there is costly.
        self.flush_writes = not uri.startswith(("http://", "https://", "tcp://", "unix:"))
        self._create_lock = threading.Lock()
        if self.client.has_collection(collection):
            self._open()

    # -- schema -------------------------------------------------------------------------
    def _open(self) -> None:
        desc = self.client.describe_collection(self.collection)
        for f in desc.get("fields", []):
            if f.get("name") == "dense":
                self.dim = int(f.get("params", {}).get("dim", 0))
        self.client.load_collection(self.collection)
        if self.flush_writes:
            self.client.flush(self.collection)  # rows recovered from the write-ahead log

    def _create(self, dim: int) -> None:
        from pymilvus import DataType, Function, FunctionType

        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("chunk_id", DataType.VARCHAR, is_primary=True, max_length=128)
        schema.add_field("user_id", DataType.INT64, is_partition_key=True)
        schema.add_field("document_id", DataType.VARCHAR, max_length=64)
        schema.add_field("conversation_id", DataType.VARCHAR, max_length=64)
        schema.add_field("filename", DataType.VARCHAR, max_length=1024)
        schema.add_field("page", DataType.INT64)
        schema.add_field("chunk_index", DataType.INT64)
        schema.add_field("heading", DataType.VARCHAR, max_length=2048)
        schema.add_field("tokens", DataType.INT64)
        schema.add_field("text", DataType.VARCHAR, max_length=TEXT_MAX)
        schema.add_field(
            "lexical",
            DataType.VARCHAR,
            max_length=TEXT_MAX,
            enable_analyzer=True,
            analyzer_params={
                "tokenizer": "standard",
                "filter": ["lowercase", {"type": "stop", "stop_words": sorted(STOP_WORDS)}],
            },
        )
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            Function(
                name="lexical_bm25",
                function_type=FunctionType.BM25,
                input_field_names=["lexical"],
                output_field_names=["sparse"],
            )
        )
        index = self.client.prepare_index_params()
        index.add_index("dense", index_type="AUTOINDEX", metric_type="COSINE")
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        self.client.create_collection(
            self.collection,
            schema=schema,
            index_params=index,
            num_partitions=self.partitions,
            consistency_level="Strong",
        )
        self.dim = dim
        logger.info("created collection %s (dim %d) at %s", self.collection, dim, self.uri)

    def _ensure(self, dim: int) -> None:
        if self.dim is not None:
            if self.dim != dim:
                raise ValueError(
                    f"collection {self.collection} holds {self.dim}-dim vectors, the embedding "
                    f"model gives {dim}: use another rag.collection for this model"
                )
            return
        with self._create_lock:
            if self.dim is None:
                if self.client.has_collection(self.collection):
                    self._open()
                else:
                    try:
                        self._create(dim)
                    except Exception:
                        if not self.client.has_collection(self.collection):
                            raise
                        self._open()  # another replica created it meanwhile
            self._ensure(dim)

    # -- writes -------------------------------------------------------------------------
    def insert(self, records: Sequence[ChunkRecord]) -> int:
        """One insert request for all records: a document's chunks appear together."""
        if not records:
            return 0
        from lmwebui.rag.lexical import lexical_text

        self._ensure(len(records[0].vector))
        rows = [
            {
                "chunk_id": r.chunk_id,
                "user_id": int(r.user_id),
                "document_id": safe_id(r.document_id),
                "conversation_id": r.conversation_id or "",
                "filename": _clip(r.filename, 1024),
                "page": r.page if r.page is not None else 0,
                "chunk_index": r.chunk_index,
                "heading": _clip(r.heading, 2048),
                "tokens": r.tokens,
                "text": _clip(r.text, TEXT_MAX),
                "lexical": _clip(lexical_text(r.text), TEXT_MAX),
                "dense": _floats(r.vector),
            }
            for r in records
        ]
        result = self.client.insert(self.collection, rows)
        if self.flush_writes:
            self.client.flush(self.collection)
        return int(result.get("insert_count", len(rows)))

    def _delete(self, expr: str) -> int:
        if self.dim is None and not self.client.has_collection(self.collection):
            return 0
        if self.dim is None:
            self._open()
        result = self.client.delete(self.collection, filter=expr)
        if isinstance(result, dict):
            return int(result.get("delete_count", 0))
        return len(result) if isinstance(result, list) else 0

    def delete_document(self, user_id: int, document_id: str) -> int:
        return self._delete(filter_expr(user_id, document_id=document_id))

    def delete_user(self, user_id: int) -> int:
        return self._delete(filter_expr(user_id))

    # -- reads --------------------------------------------------------------------------
    def count(self, user_id: int, document_id: str | None = None) -> int:
        if self.dim is None:
            return 0
        rows = self.client.query(
            self.collection,
            filter=filter_expr(user_id, document_id=document_id),
            output_fields=["count(*)"],
        )
        return int(rows[0]["count(*)"]) if rows else 0

    def search(self, query: StoreQuery) -> list[StoreHit]:
        if self.dim is None or query.limit <= 0:
            return []
        from pymilvus import AnnSearchRequest, RRFRanker

        expr = filter_expr(
            query.user_id,
            conversation_id=query.conversation_id,
            exclude=query.exclude_documents,
        )
        mode = query.mode
        if mode != "dense" and not (query.text and query.text.strip()):
            mode = "dense"
        if mode != "bm25" and query.vector is None:
            mode = "bm25"
        if mode == "bm25" and not (query.text and query.text.strip()):
            return []
        limit = query.limit
        candidates = max(self.candidates, limit)
        dense = [_floats(query.vector)] if query.vector is not None else None
        if mode == "dense":
            res = self.client.search(
                self.collection,
                data=dense,
                anns_field="dense",
                filter=expr,
                limit=limit,
                output_fields=_OUTPUT,
                search_params={"metric_type": "COSINE"},
            )
            return [_hit(h, float(h["distance"])) for h in res[0]]
        if mode == "bm25":
            res = self.client.search(
                self.collection,
                data=[query.text],
                anns_field="sparse",
                filter=expr,
                limit=limit,
                output_fields=_OUTPUT,
                search_params={"metric_type": "BM25"},
            )
            # Milvus Lite reports BM25 as a negated distance; rank order is what counts
            return [_hit(h, abs(float(h["distance"]))) for h in res[0]]
        requests = [
            AnnSearchRequest(
                data=dense,
                anns_field="dense",
                param={"metric_type": "COSINE"},
                limit=candidates,
                expr=expr,
            ),
            AnnSearchRequest(
                data=[query.text],
                anns_field="sparse",
                param={"metric_type": "BM25"},
                limit=candidates,
                expr=expr,
            ),
        ]
        res = self.client.hybrid_search(
            self.collection,
            requests,
            RRFRanker(self.rrf_k),
            limit=limit,
            output_fields=_OUTPUT,
        )
        return [_hit(h, float(h["distance"])) for h in res[0]]

    def close(self) -> None:
        try:
            self.client.close()
            if not self.uri.startswith(("http://", "https://", "tcp://", "unix:")):
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(self.uri)  # frees the file lock
        except Exception:  # closing is best effort
            logger.debug("milvus close failed", exc_info=True)


def _hit(h: Any, score: float) -> StoreHit:
    e = h.get("entity", h)
    page = int(e.get("page") or 0)
    return StoreHit(
        chunk_id=str(e.get("chunk_id") or h.get("chunk_id") or h.get("id")),
        document_id=str(e["document_id"]),
        filename=str(e.get("filename", "")),
        page=page or None,
        chunk_index=int(e.get("chunk_index") or 0),
        heading=str(e.get("heading", "")),
        text=str(e.get("text", "")),
        score=round(score, 6),
        conversation_id=str(e.get("conversation_id") or "") or None,
        tokens=int(e.get("tokens") or 0),
    )
