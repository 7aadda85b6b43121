"""Threads of the native libraries (BLAS, OpenMP) a dbt Python model's fit uses.

dbt runs up to ``threads`` (profiles.yml: 2) models at once in one process, and scikit-learn's K-Means,
its pairwise distances and numpy's BLAS each start one thread per core. On small matrices those threads
cost more than they save: segment_model's fit at 20,000 persons took 7.96 CPU seconds with 2 BLAS and
OpenMP threads and 3.94 with one, the same segments (docs/decisions.md, "Demo build time"). The cap is the
one LightGBM has (:func:`model_threads`: the cores this process may use divided by the dbt threads).
threadpoolctl comes with scikit-learn (one of its requirements).
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from threadpoolctl import threadpool_limits


def model_threads(dbt_threads: int | str | None = 1) -> int:
    """The cores this process may use (affinity mask) divided by the dbt threads, at least 1: more
    threads than cores make the native libraries' threads wait for each other and for the other model."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, int(dbt_threads or 1)))


@contextmanager
def native_threads(limit: int | None):
    """BLAS and OpenMP threads capped at ``limit`` inside the block (None: left as they are). The libraries
    must be loaded already (threadpoolctl limits the loaded ones): call it around the fit, not at import."""
    if limit is None:
        yield
        return
    with threadpool_limits(limits=max(1, int(limit))):
        yield
