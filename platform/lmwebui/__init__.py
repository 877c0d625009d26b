"""lmwebui: a Ray-based inference platform serving the LM WebUI API."""

__version__ = "0.1.0"
