"""Benchmarks of the platform: `python -m bench` (make bench) and the outbox relay tests."""
