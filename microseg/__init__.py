"""microseg: the Python side of the project (models' logic, generator, benchmark)."""

import os

#: DuckDB's memory limit when MICROSEG_MEMORY_LIMIT is not set: the default of profiles.yml (and of the
#: integration_tests profile), also used by the processes microseg opens DuckDB in itself (the benchmark's floor
#: query, the generator's drop splitting); docs/decisions.md, "DuckDB memory limit 3500MB by default"
DEFAULT_MEMORY_LIMIT = "3500MB"


def duckdb_memory_limit() -> str:
    """MICROSEG_MEMORY_LIMIT, else :data:`DEFAULT_MEMORY_LIMIT`."""
    return os.environ.get("MICROSEG_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)

# LightGBM's OpenMP threads wait for work by spinning unless told otherwise; on a shared machine (another dbt
# model, another job) that burnt ten times the CPU of the work itself (docs/decisions.md, "ML node cost").
# Set before any microseg module loads LightGBM, whose libgomp reads it once; a caller's value wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# numpy asks the kernel for transparent huge pages for every array of 4 MiB or more (madvise MADV_HUGEPAGE). On a
# machine whose memory is full of page cache (a build writes an 11.5 GB file), each such page fault may first
# compact memory: scoring 949,530 customers spent 29.5 s in the kernel (55.6 s wall) with it, 5.2 s (25.8 s)
# without (docs/decisions.md, "No huge pages for numpy"). numpy reads the variable when it is imported, and dbt
# has imported it before a Python model imports microseg, so the runtime switch is set too; a caller's value wins.
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
if os.environ["NUMPY_MADVISE_HUGEPAGE"] == "0":
    from numpy._core.multiarray import _set_madvise_hugepage  # numpy >= 2 (pyproject.toml)

    _set_madvise_hugepage(False)
