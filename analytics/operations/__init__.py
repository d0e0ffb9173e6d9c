"""Operational state of the service: health and worker heartbeats."""
