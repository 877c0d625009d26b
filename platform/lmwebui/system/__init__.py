"""Health, readiness and system/cluster information."""
