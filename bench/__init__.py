"""Benchmarks: ``make bench`` runs them all and prints ``name: value`` lines."""
