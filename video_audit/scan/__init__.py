"""Nightly scan: walk the root, audit what changed in worker processes, the morning summary."""
