"""Benchmarks (``voxa bench <name>``): each prints one JSON line of results and
a table, measures a baseline in the same run, and is bounded in time."""
