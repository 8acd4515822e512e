"""Bulletin's benchmarks: each module is one command (see BENCHMARKS.md)."""
