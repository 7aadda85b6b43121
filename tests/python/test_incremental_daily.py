"""The daily command's retry of models that ran out of memory beside another (microseg.incremental_daily)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from microseg import incremental_daily


def _result(status: str, name: str, message: str = "") -> SimpleNamespace:
    return SimpleNamespace(status=status, message=message,
                           node=SimpleNamespace(name=name, unique_id=f"model.microseg.{name}"))  # fmt: skip


class FakeRunner:
    """dbtRunner stand-in: answers each invocation from a script keyed by (command, --threads, --select)."""

    def __init__(self, script):
        self.script, self.calls = script, []

    def invoke(self, args):
        if args[0] == "parse":
            return SimpleNamespace(success=True, result="manifest", exception=None)
        threads = args[args.index("--threads") + 1]
        select = tuple(args[args.index("--select") + 1: args.index("--threads")]) if "--select" in args else ()
        self.calls.append((args[0], threads, select))
        results = self.script.get((args[0], threads, select), [])
        ok = all(r.status in ("success", "pass", "warn", "skipped") for r in results)
        return SimpleNamespace(success=ok, result=SimpleNamespace(results=results), exception=None)


OOM = "Out of Memory Error: failed to pin block of size 256.0 KiB (5.5 GiB/5.5 GiB used)"


@pytest.fixture
def run_daily(monkeypatch, tmp_path):
    def run(script):
        fake = FakeRunner(script)
        monkeypatch.setattr("dbt.cli.main.dbtRunner", lambda manifest=None: fake)
        out = incremental_daily.daily_run(tmp_path / "target", tmp_path / "logs", threads=2)
        return out, fake.calls

    return run


def test_a_model_out_of_memory_beside_another_is_built_alone_then_its_children(run_daily, capsys):
    out, calls = run_daily({
        ("run", "2", ()): [_result("success", "mart_customer_features"),
                           _result("error", "propensity_features", OOM),
                           _result("skipped", "propensity_labels")],
    })
    assert calls[:3] == [("run", "2", ()), ("run", "1", ("propensity_features",)),
                         ("run", "2", ("propensity_features+", "--exclude", "propensity_features"))]
    assert out["failed"] == [] and out["rerun_alone"] == ["propensity_features"]
    assert [c[0] for c in calls[3:]] == ["snapshot", "test"]
    assert "propensity_features ran out of memory" in capsys.readouterr().err


def test_a_model_that_fails_alone_still_fails_the_run(run_daily):
    out, calls = run_daily({
        ("run", "2", ()): [_result("error", "propensity_features", OOM)],
        ("run", "1", ("propensity_features",)): [_result("error", "propensity_features", OOM)],
    })
    assert out["failed"] == [f"model.microseg.propensity_features: {OOM}"]
    assert [c[0] for c in calls] == ["run", "run"]  # neither the children, nor snapshots, nor tests


def test_other_failures_are_not_retried(run_daily):
    out, calls = run_daily({
        ("run", "2", ()): [_result("error", "propensity_features", OOM),
                           _result("error", "fct_orders", "Binder Error: column x not found")],
    })
    assert len(calls) == 1 and len(out["failed"]) == 2 and "rerun_alone" not in out
