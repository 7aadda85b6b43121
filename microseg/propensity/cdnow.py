"""Real-data benchmark on CDNOW (23,570 customers' CD purchases, 1997-01 to 1998-06).

    python -m microseg.propensity.cdnow [--out data/cdnow]

1. downloads the lifetimes 0.11.3 wheel with pip (``pip download --no-deps``;
   nothing is installed) and extracts ``lifetimes/datasets/CDNOW_master.txt``;
2. maps it into the raw contract: one order and one order line per master-file
   row (customer ``<id>`` buys as guest ``cdnow<id>@example.com``, USD, category
   ``books & media``); crm_customers, events, third_party and erasure_requests
   are written with the contract's columns and no rows (dbt reads a folder of
   files, so an absent file is a missing table, not an empty one);
3. for each cutoff runs ``dbt build`` (the whole project, tests included) with
   microseg__as_of_date = cutoff and a 91-day horizon, in a fresh DuckDB file:
   the model trains on features as of cutoff - k x 91 days (k = 1..3) labelled
   with purchases in the 91 days after each (the last window ends at the
   cutoff), scores every customer as of the cutoff, and
   propensity_model_metrics' ``forward`` rows compare those scores (and the
   baselines, computed as of the cutoff) with purchases in (cutoff, cutoff + 91];
4. prints ROC-AUC of the model and each baseline, and checks the forward label
   counts against a direct count on the master file.

No feature or fit sees a date after the cutoff: the label window after it only
enters the forward evaluation (propensity_labels, scoring snapshot).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import contract

WHEEL = "lifetimes==0.11.3"
MEMBER = "lifetimes/datasets/CDNOW_master.txt"
CUTOFFS = ("1998-03-31", "1997-12-31")
HORIZON_DAYS = 91
# Training snapshots stacked (as of cutoff - k x 91 days, k = 1..3): every CDNOW customer's first purchase is
# in 1997-Q1, so three snapshots fit before both cutoffs; more rows lifted the forward AUC a little.
TRAINING_SNAPSHOTS = 3
N_CUSTOMERS = 23_570
# make cdnow-value's value horizon (microseg.value.cdnow_value): the default 12 months leaves the value model no
# training customer at the 1997-12-31 cutoff
VALUE_HORIZON_MONTHS = 3

# Required raw tables (models/sources.yml) CDNOW does not have: written empty, with their contract columns. The
# optional ones (events, third_party, erasure_requests) are left absent: the build makes them empty.
EMPTY_TABLES = {
    name: list(table.column_names)
    for name, table in contract.load().items()
    if table.required and name not in ("orders", "order_lines")
}


def fetch_master(work_dir: Path, pip: list[str] | None = None) -> Path:
    """Download the lifetimes wheel (no install) and extract CDNOW_master.txt; reuses an earlier download."""
    work_dir.mkdir(parents=True, exist_ok=True)
    target = work_dir / "CDNOW_master.txt"
    if target.exists():
        return target
    wheels = work_dir / "wheel"
    cmd = (pip or [sys.executable, "-m", "pip"]) + ["download", WHEEL, "--no-deps", "--quiet", "-d", str(wheels)]
    if subprocess.run(cmd).returncode != 0:
        raise SystemExit(f"pip download {WHEEL} failed: is PyPI reachable?")
    wheel = next((w for w in wheels.glob("*.whl") if w.name.lower().startswith("lifetimes-0.11.3-")), None)
    if wheel is None:
        raise SystemExit(f"pip download did not produce a lifetimes 0.11.3 wheel in {wheels}")
    with zipfile.ZipFile(wheel) as zf:
        target.write_bytes(zf.read(MEMBER))
    return target


def read_master(path: Path) -> pd.DataFrame:
    """customer_id, order_date, n_cds, amount_usd (one row per master-file line)."""
    # the lifetimes copy has a header line (customer_id date number_of_cds dollar_value); older copies do not
    first = path.read_text().lstrip().split(None, 1)[0]
    frame = pd.read_csv(path, sep=r"\s+", header=None, skiprows=0 if first.isdigit() else 1,
                        names=["customer_id", "date", "n_cds", "amount_usd"],
                        dtype={"customer_id": int, "date": str, "n_cds": int, "amount_usd": float})
    frame["order_date"] = pd.to_datetime(frame["date"], format="%Y%m%d").dt.date
    return frame.drop(columns="date")


def to_raw_contract(master: pd.DataFrame, raw_dir: Path) -> None:
    """Write orders, order_lines (one per master row, contract column order) and an empty file for every other
    required source as Parquet; optional sources are not written."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    n = len(master)
    idx = pd.Series(range(1, n + 1))
    ref = "cdnow" + master["customer_id"].map("{:05d}".format) + "@example.com"
    orders = pd.DataFrame(
        {
            "order_id": "O" + idx.map("{:09d}".format),
            "customer_ref": ref.to_numpy(),
            "ordered_at": pd.Series(master["order_date"]).astype(str).to_numpy() + "T12:00:00Z",
            "currency": "USD",
            "channel": "web",
            "payment_method": "card",
        }
    )
    qty = master["n_cds"].clip(lower=1)
    lines = pd.DataFrame(
        {
            "order_line_id": "L" + idx.map("{:010d}".format),
            "order_id": orders["order_id"],
            "product_category": "books & media",
            "quantity": master["n_cds"].astype(str).to_numpy(),
            "unit_price": (master["amount_usd"] / qty).round(4).map("{:.4f}".format).to_numpy(),
            "discount_amount": "0.00",
            "line_amount": master["amount_usd"].map("{:.2f}".format).to_numpy(),
        }
    )
    for name, frame in (("orders", orders), ("order_lines", lines)):
        frame = frame[list(contract.columns(name))]
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), raw_dir / f"{name}.parquet")
    for name, columns in EMPTY_TABLES.items():
        schema = pa.schema([(c, pa.string()) for c in columns])
        pq.write_table(schema.empty_table(), raw_dir / f"{name}.parquet")


def direct_label_count(master: pd.DataFrame, cutoff: str) -> tuple[int, int]:
    """Customers active by the cutoff and how many bought in (cutoff, cutoff + horizon] (every row is a purchase)."""
    c = pd.Timestamp(cutoff).date()
    end = (pd.Timestamp(cutoff) + pd.Timedelta(days=HORIZON_DAYS)).date()
    sold = master[master["n_cds"] > 0]
    active = set(sold.loc[sold["order_date"] <= c, "customer_id"])
    bought = set(sold.loc[(sold["order_date"] > c) & (sold["order_date"] <= end), "customer_id"])
    return len(active), len(active & bought)


def run_cutoff(raw_dir: Path, db_path: Path, cutoff: str, dbt: str, log_path: Path) -> int:
    """dbt build of the propensity marts (and everything upstream, with its tests) as of the cutoff."""
    if db_path.exists():
        db_path.unlink()
    env = {**os.environ, "MICROSEG_RAW_PATH": str(raw_dir), "MICROSEG_DUCKDB_PATH": str(db_path),
           "DBT_PROFILES_DIR": os.environ.get("DBT_PROFILES_DIR", ".")}
    vars_ = json.dumps({"microseg__as_of_date": cutoff, "microseg__propensity_horizon_days": HORIZON_DAYS,
                        "microseg__propensity_training_snapshots": TRAINING_SNAPSHOTS,
                        "microseg__propensity_model_mode": "retrain",
                        # the whole project builds, the value model too: its training snapshot is as_of_date minus
                        # the value horizon, and 12 months before 1997-12-31 no CDNOW customer had bought yet
                        "microseg__value_horizon_months": VALUE_HORIZON_MONTHS})
    # the whole project, tests included: the benchmark also proves the pipeline builds with empty CRM, events,
    # third-party and erasure sources
    cmd = [dbt, "build", "--vars", vars_]
    with open(log_path, "w") as log:
        return subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT).returncode


def read_results(db_path: Path) -> pd.DataFrame:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.sql(
            "select evaluation_set, scorer, metric, metric_value as value from marts.propensity_model_metrics "
            "where table_name = 'summary'"
        ).df()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="data/cdnow", type=Path)
    parser.add_argument("--cutoffs", nargs="+", default=list(CUTOFFS))
    parser.add_argument("--dbt", default=str(Path(sys.executable).parent / "dbt"))
    args = parser.parse_args(argv)

    master = read_master(fetch_master(args.out))
    print(f"CDNOW master: {len(master):,} rows, {master['customer_id'].nunique():,} customers, "
          f"{master['order_date'].min()} to {master['order_date'].max()}, "
          f"{int((master['amount_usd'] <= 0).sum())} rows with amount 0 (free CDs: still purchases)")
    to_raw_contract(master, args.out / "raw")
    rows, status = [], 0
    for cutoff in args.cutoffs:
        db = args.out / f"cdnow_{cutoff}.duckdb"
        log = args.out / f"dbt_build_{cutoff}.log"
        rc = run_cutoff(args.out / "raw", db, cutoff, args.dbt, log)
        if rc != 0:
            print(f"cutoff {cutoff}: dbt build exited {rc}; see {log}")
            status = 1
        if not db.exists():
            continue
        res = read_results(db)
        n_active, n_bought = direct_label_count(master, cutoff)
        fwd = res[res["evaluation_set"] == "forward"].set_index(["scorer", "metric"])["value"]
        cv = res[res["evaluation_set"] == "cross_validation"].set_index(["scorer", "metric"])["value"]
        row = {"cutoff": cutoff, "customers": int(fwd.get(("model", "n_rows"), float("nan"))),
               "buyers_next_91d": int(fwd.get(("model", "n_positives"), float("nan"))),
               "direct_count": f"{n_active}/{n_bought}"}
        for scorer in ("model", "bgnbd", "recency", "rfm"):
            row[f"auc_{scorer}"] = round(float(fwd.get((scorer, "roc_auc"), float("nan"))), 4)
        row["cv_auc_model"] = round(float(cv.get(("model", "roc_auc"), float("nan"))), 4)
        row["cv_auc_bgnbd"] = round(float(cv.get(("bgnbd", "roc_auc"), float("nan"))), 4)
        rows.append(row)
        if (row["customers"], row["buyers_next_91d"]) != (n_active, n_bought):
            print(f"cutoff {cutoff}: forward rows/positives {row['customers']}/{row['buyers_next_91d']} differ from "
                  f"the master file's {n_active}/{n_bought}")
            status = 1
    if rows:
        print(f"\nForward ROC-AUC: scores as of the cutoff vs any purchase in the next {HORIZON_DAYS} days")
        print(pd.DataFrame(rows).to_string(index=False))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
