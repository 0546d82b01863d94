"""Benchmarks of the optimizer: day-ahead solve and re-solve, Pyomo against the raw-highspy twin."""
