"""benchmarks stage."""
