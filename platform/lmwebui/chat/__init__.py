"""Chat: the OpenAI-shaped internal protocol, engines, conversations, streaming events."""
