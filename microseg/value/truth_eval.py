"""Customer value and churn risk against the generator's truth.

    python -m microseg.value.truth_eval --truth data/truth --db data/microseg.duckdb

Every valued customer is matched to the persons truth gives its identifiers
(customer_identity_map joins truth/identity.parquet). Actual: the sales of
those persons in truth/future_orders.parquet (the 90 days after the data end,
which the pipeline never reads) within the value horizon; churned: no such
order in the churn window. Meaningful when customer_value is as of the data end
and the horizons fit in the 90 days of future truth (build with
microseg__value_horizon_months: 3 and microseg__churn_inactive_days <= 90);
the script says when they do not.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from microseg.value import bootstrap, clv

FUTURE_DAYS = 90


def load(truth: Path, db: str) -> tuple[pd.DataFrame, dict]:
    meta = json.loads((truth / "meta.json").read_text())
    with duckdb.connect(db, read_only=True) as con:
        scores = con.sql(
            "select p.*, v.value_decile from ml.customer_value_predictions p "
            "join marts.customer_value v using (customer_key)").df()
        id_map = con.sql("select source, source_id, customer_key from marts.customer_identity_map").df()
        config = json.loads(con.execute("select config from ml.customer_value_model").fetchone()[0])
    identity = pd.read_parquet(truth / "identity.parquet")
    future = pd.read_parquet(truth / "future_orders.parquet")
    as_of = pd.Timestamp(scores["as_of_date"].iloc[0])
    horizon = int(round(config["horizon_months"] * clv.DAYS_PER_MONTH))
    churn_days = int(config["churn_inactive_days"])
    ordered = pd.to_datetime(future["ordered_at"])
    if ordered.dt.tz is not None:
        ordered = ordered.dt.tz_convert(None)
    future = future.assign(day=ordered.dt.normalize())
    links = identity.merge(id_map, on=["source", "source_id"])[["customer_key", "person_id"]].drop_duplicates()
    links = links[links["customer_key"].isin(scores["customer_key"])]

    def spend(days: int) -> pd.Series:
        window = future[(future["day"] > as_of) & (future["day"] <= as_of + pd.Timedelta(days=days))]
        per_person = window.groupby("person_id")["amount_eur"].agg(["sum", "size"])
        joined = links.merge(per_person, left_on="person_id", right_index=True, how="left").fillna(0)
        return joined.groupby("customer_key")[["sum", "size"]].sum()

    value = spend(horizon)
    churn = spend(churn_days)
    info_first = first_purchase_frame(db, identity, id_map, future, as_of)
    frame = scores[scores["customer_key"].isin(links["customer_key"])].copy()
    frame["actual_eur"] = value["sum"].reindex(frame["customer_key"]).fillna(0).to_numpy()
    frame["churned"] = churn["size"].reindex(frame["customer_key"]).fillna(0).to_numpy() == 0
    frame.attrs["first_purchase"] = info_first
    info = {"as_of_date": str(as_of.date()), "data_end_date": meta["data_end_date"], "value_horizon_days": horizon,
            "churn_days": churn_days, "customers_valued": len(scores), "customers_matched": len(frame)}
    return frame, info


def first_purchase_frame(db: str, identity, id_map, future, as_of) -> pd.DataFrame | None:
    """ml.first_purchase_scores with label: a truth future order within FUTURE_DAYS (None when absent)."""
    try:
        with duckdb.connect(db, read_only=True) as con:
            scores = con.sql("select customer_key, first_purchase_propensity, baseline_score "
                             "from ml.first_purchase_scores").df()
    except duckdb.Error:
        return None
    links = identity.merge(id_map, on=["source", "source_id"])[["customer_key", "person_id"]].drop_duplicates()
    window = future[(future["day"] > as_of) & (future["day"] <= as_of + pd.Timedelta(days=FUTURE_DAYS))]
    buyers = set(links.loc[links["person_id"].isin(set(window["person_id"])), "customer_key"])
    scores = scores[scores["customer_key"].isin(links["customer_key"])]
    return scores.assign(label=scores["customer_key"].isin(buyers))


def report(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    y = frame["actual_eur"].to_numpy(float)
    value = pd.DataFrame([
        {"scorer": "model (LightGBM expected revenue)", **clv.value_metrics(y, frame["model_expected_revenue_eur"])},
        {"scorer": "btyd (BG/NBD x Gamma-Gamma)", **clv.value_metrics(y, frame["btyd_expected_revenue_eur"])},
        {"scorer": "past spend", **clv.value_metrics(y, frame["monetary_eur"])},
    ])
    c = frame["churned"].astype(float).to_numpy()
    rows = []
    for name, score in clv.churn_baselines(frame).items():
        r = bootstrap.paired_difference(c, frame["churn_risk"], score, roc_auc_score, rounds=300)
        rows.append({"baseline": name, "auc_model": r["a"], "auc_baseline": r["b"], "diff": r["diff"],
                     "diff_low": r["diff_low"], "diff_high": r["diff_high"]})
    return value, pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--truth", default="data/truth", type=Path)
    parser.add_argument("--db", default="data/microseg.duckdb")
    args = parser.parse_args(argv)
    try:
        frame, info = load(args.truth, args.db)
    except (duckdb.Error, FileNotFoundError) as exc:
        print(f"cannot evaluate: {exc}. Build customer_value first (dbt build).", file=sys.stderr)
        return 2
    for key, val in info.items():
        print(f"{key}: {val}")
    if info["as_of_date"] != info["data_end_date"]:
        print("note: customer_value is not as of the data end; truth/future_orders starts at the data end")
    if max(info["value_horizon_days"], info["churn_days"]) > FUTURE_DAYS + 1:
        print(f"note: truth covers {FUTURE_DAYS} days after the data end; longer windows are cut there")
    value, churn = report(frame)
    fmt = {"index": False, "float_format": lambda v: f"{v:,.4f}"}
    print(f"\nvalue: actual = sales in the {info['value_horizon_days']} days after as_of_date, "
          f"{len(frame):,} customers\n{value.to_string(**fmt)}")
    print(f"\nchurn (no order in {info['churn_days']} days: {frame['churned'].mean():.1%}), ROC-AUC, "
          f"paired bootstrap 95% interval of model minus baseline\n{churn.to_string(**fmt)}")
    first = frame.attrs.get("first_purchase")
    if first is not None and 0 < first["label"].sum() < len(first):
        r = bootstrap.paired_difference(first["label"].astype(float), first["first_purchase_propensity"],
                                        first["baseline_score"], roc_auc_score, rounds=300)
        print(f"\nfirst purchase ({len(first):,} browsing non-buyers, {int(first['label'].sum())} order in "
              f"{FUTURE_DAYS} days): ROC-AUC model {r['a']:.4f}, baseline (cart adds, then session recency) "
              f"{r['b']:.4f}, difference {r['diff']:+.4f} [{r['diff_low']:+.4f}, {r['diff_high']:+.4f}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
