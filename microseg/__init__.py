"""microseg: the Python side of the project (models' logic, generator, benchmark)."""

import os

# LightGBM's OpenMP threads wait for work by spinning unless told otherwise; on a shared machine (another dbt
# model, another job) that burnt ten times the CPU of the work itself (docs/decisions.md, "ML node cost").
# Set before any microseg module loads LightGBM, whose libgomp reads it once; a caller's value wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
