"""Test support: the in-process app and its login, the scripted chat engine, the fake
Hugging Face hub, PostgreSQL, the bundled model, GGUF files and the live-server runner.

Tests import from here; tests/conftest.py only declares fixtures.
"""
