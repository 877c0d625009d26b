"""GGUF models: files, chat formats, the batched llama.cpp engine and its chat adapter."""
