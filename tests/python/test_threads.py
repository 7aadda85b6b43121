"""The native thread cap of the ML fits (microseg.threads)."""

import numpy as np
from threadpoolctl import threadpool_info

from microseg import threads
from microseg.segment_run import threads_from_dbt


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_the_cap_holds_inside_the_block_and_is_lifted_after(monkeypatch):
    np.dot(np.ones((2, 2)), np.ones((2, 2)))  # numpy's BLAS is loaded
    before = _blas_threads()
    assert before
    with threads.native_threads(1):
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before
    with threads.native_threads(None):
        assert _blas_threads() == before


def test_threads_are_the_cores_divided_by_the_dbt_threads(monkeypatch):
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert threads_from_dbt({"dbt_threads": "2"}) == 1
    assert threads_from_dbt({"dbt_threads": "1"}) == 2
    assert threads_from_dbt({}) == 2 and threads_from_dbt(None) == 2
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    assert threads_from_dbt({"dbt_threads": "2"}) == 4 and threads.model_threads(16) == 1
