"""Helpers shared by the tests and the benchmarks (bench/): specs on free ports, real tools, real services, drills."""
