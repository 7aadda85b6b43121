"""Where a drop's time goes: per-node thread time of a replay's dbt invocations (docs/incremental.md).

``python -m microseg.incremental_breakdown data/replay/work_chain`` reads the run_results of every
invocation the replay kept (``work_*/run_results/NN_<command>.json``, :func:`microseg.incremental.dbt_build`)
and prints, per invocation, its wall time, its thread time (the sum of the nodes' execution times) by
kind of node (model layer, data test, unit test, snapshot) and its slowest nodes.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path


def node_kind(unique_id: str, path: str = "") -> str:
    """The kind of a node for the breakdown: the model's layer (first folder: staging, intermediate, marts,
    python_models, activation), ``test``, ``unit_test``, ``snapshot`` or ``seed``."""
    resource = unique_id.split(".")[0]
    if resource == "model":
        return "model:" + (path.split("/")[0] if "/" in path else "other")
    return resource


def breakdown(run_results: Path, top: int = 10) -> dict:
    """One invocation: wall time, thread time per kind of node and the ``top`` slowest nodes."""
    data = json.loads(Path(run_results).read_text())
    paths = {}
    manifest = Path(run_results).parents[1] / "target" / "manifest.json"
    if manifest.is_file():
        nodes = json.loads(manifest.read_text())["nodes"]
        paths = {uid: n.get("original_file_path", "").removeprefix("models/") for uid, n in nodes.items()}
    by_kind: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for r in data["results"]:
        kind = node_kind(r["unique_id"], paths.get(r["unique_id"], ""))
        by_kind[kind] += r["execution_time"]
        counts[kind] += 1
    slowest = sorted(((r["execution_time"], r["unique_id"]) for r in data["results"]), reverse=True)[:top]
    return {"command": data["args"].get("which", "?"), "wall": data["elapsed_time"],
            "thread": sum(by_kind.values()), "by_kind": dict(by_kind), "counts": dict(counts),
            "slowest": slowest}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m microseg.incremental_breakdown", description=__doc__.split("\n\n")[0])
    p.add_argument("workdir", help="a replay's work_chain or work_full folder")
    p.add_argument("--top", type=int, default=10)
    args = p.parse_args(argv)
    files = sorted((Path(args.workdir) / "run_results").glob("*.json"))
    if not files:
        print(f"no run_results kept in {args.workdir}/run_results: replay with this version of microseg.incremental")
        return 1
    for f in files:
        b = breakdown(f, args.top)
        print(f"{f.name}: wall {b['wall']:.1f} s, thread {b['thread']:.1f} s")
        for kind, seconds in sorted(b["by_kind"].items(), key=lambda kv: -kv[1]):
            print(f"    {kind:28s} {seconds:7.1f} s  ({b['counts'][kind]} nodes)")
        for seconds, uid in b["slowest"]:
            print(f"      {seconds:6.1f} s  {uid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
