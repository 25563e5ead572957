"""couponmint's benchmarks: every figure a ratio to a baseline measured in the same run.

`python -m bench --quick` (make bench-quick) or `python -m bench` (make bench); see docs/benchmarks.md.
"""
