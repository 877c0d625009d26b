"""Model inference: the batched llama.cpp engine, chat formats, loaded models and the chat adapter.

Reads model files through ``lmwebui.models.files`` only; never imports the hub/download code.
"""
