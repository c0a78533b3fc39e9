"""Benchmarks (``make bench``). Each script prints its figures and the reference it was
measured against in the same run; nothing here asserts a timing."""
