"""Experiments: replications, sweeps and comparisons of designs, run anywhere.

- `units`: one picklable unit (resolved scenario + seed -> summary, maybe the tables).
- `executors`: where units run (serial, local processes, Dask), behind one interface.
- `replications`: seeds, the stop rule, the per-replication table and its intervals.
- `sweep` and `compare`: grids of parameter values, and designs side by side.
- `warmup`: ``run.warmup: auto`` by MSER-5. `theory`: closed forms a sweep draws beside.
"""
