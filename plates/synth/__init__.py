"""Synthetic plate generator: seeded, reproducible, multiprocess."""
