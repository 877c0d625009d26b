"""Thin routers: decorators, a service call, response shaping."""
