"""Retrieval-augmented generation: embeddings, chunking, the vector store, the RAG service.

Nothing here loads a model or opens a store at import time; deployments (or the
in-process test backends) build them.
"""
