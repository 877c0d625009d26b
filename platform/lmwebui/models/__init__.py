"""Model management: the models directory, GGUF headers, hub resolve, downloads, uploads,
compatibility estimates and the service behind /api/gguf."""
