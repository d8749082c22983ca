"""Benchmarks behind ``make bench``: each ``bench/bench_*.py`` module exposes ``run() -> list[dict[str, str]]``."""
