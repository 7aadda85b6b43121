"""Propensity scores against the generator's truth.

    python -m microseg.propensity_eval --truth data/truth --db data/microseg.duckdb

Every scored customer is matched to the persons truth gives its identifiers
(customer_identity_map joins truth/identity.parquet on (source, source_id)).
Label: one of those persons orders in the horizon after the data ends
(truth/future_orders.parquet, which the pipeline never reads). Printed side by
side on the same customers:

- the model (marts.propensity_scores);
- the baselines the pipeline computed as of the same date (recency, RFM score,
  BG/NBD expected purchases; ml.propensity_predictions);
- two oracles from the generator's latent truth: P(at least one order in the
  horizon) = is_active_at_end x (1 - exp(-purchase_rate_per_year x horizon /
  365)), and the purchase rate alone. No model can know these; they bound
  what is learnable.

Meaningful when the scores are as of the data end (the default as_of_date);
the script says so when they are not.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from microseg.propensity import metrics


def load(truth: Path, db: str) -> tuple[pd.DataFrame, dict]:
    """One row per scored customer: scores, baselines, label from truth, oracle scores."""
    meta = json.loads((truth / "meta.json").read_text())
    with duckdb.connect(db, read_only=True) as con:
        scores = con.sql(
            "select s.customer_key, s.propensity, s.as_of_date, p.recency_days, p.rfm_score, "
            "p.bgnbd_baseline_expected_purchases from marts.propensity_scores s "
            "join ml.propensity_predictions p using (customer_key)"
        ).df()
        id_map = con.sql("select source, source_id, customer_key from marts.customer_identity_map").df()
        horizon = con.execute(
            "select horizon_days from ml.propensity_model_registry "
            "where model_id = (select any_value(model_id) from marts.propensity_scores)"
        ).fetchall()[0][0]
    identity = pd.read_parquet(truth / "identity.parquet")
    persons = pd.read_parquet(truth / "persons.parquet")
    future = pd.read_parquet(truth / "future_orders.parquet")
    links = identity.merge(id_map, on=["source", "source_id"])[["customer_key", "person_id"]].drop_duplicates()
    links = links[links["customer_key"].isin(scores["customer_key"])]

    as_of = pd.Timestamp(scores["as_of_date"].iloc[0])
    end = as_of + pd.Timedelta(days=int(horizon))
    ordered = pd.to_datetime(future["ordered_at"])
    if ordered.dt.tz is not None:
        ordered = ordered.dt.tz_convert(None)
    in_window = future.loc[(ordered.dt.normalize() > as_of) & (ordered.dt.normalize() <= end), "person_id"]
    persons = persons.assign(
        buys=persons["person_id"].isin(set(in_window)),
        oracle=persons["is_active_at_end"].astype(float)
        * (1 - np.exp(-persons["purchase_rate_per_year"] * int(horizon) / 365.0)),
    )
    per_customer = (
        links.merge(persons[["person_id", "buys", "oracle", "purchase_rate_per_year"]], on="person_id")
        .groupby("customer_key")
        .agg(label=("buys", "max"), oracle=("oracle", "max"), oracle_rate=("purchase_rate_per_year", "max"),
             n_persons=("person_id", "nunique"))
        .reset_index()
    )
    frame = scores.merge(per_customer, on="customer_key", how="left")
    info = {
        "as_of_date": str(as_of.date()),
        "data_end_date": meta["data_end_date"],
        "horizon_days": int(horizon),
        "customers_scored": len(scores),
        "customers_without_truth_person": int(frame["label"].isna().sum()),
        "customers_with_several_persons": int((frame["n_persons"] > 1).sum()),
    }
    return frame.dropna(subset=["label"]), info


def report(frame: pd.DataFrame) -> pd.DataFrame:
    y = frame["label"].astype(float).to_numpy()
    scorers = {
        "oracle: P(alive) x P(order | rate)": frame["oracle"],
        "oracle: purchase rate only": frame["oracle_rate"],
        "model (propensity_scores)": frame["propensity"],
        "baseline: BG/NBD expected purchases": frame["bgnbd_baseline_expected_purchases"],
        "baseline: recency only": -frame["recency_days"],
        "baseline: RFM score": frame["rfm_score"],
    }
    rows = []
    for name, score in scorers.items():
        s = metrics.summary(y, score.to_numpy(float), is_probability=name.startswith(("model", "oracle: P")))
        rows.append({"scorer": name, "roc_auc": s["roc_auc"], "pr_auc": s["pr_auc"],
                     "top_decile_lift": s["top_decile_lift"], "brier_score": s["brier_score"]})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--truth", default="data/truth", type=Path)
    parser.add_argument("--db", default="data/microseg.duckdb")
    args = parser.parse_args(argv)
    try:
        frame, info = load(args.truth, args.db)
    except (duckdb.Error, FileNotFoundError) as exc:
        print(f"cannot evaluate: {exc}. Build the propensity marts first (dbt build).", file=sys.stderr)
        return 2
    for key, value in info.items():
        print(f"{key}: {value}")
    if info["as_of_date"] != info["data_end_date"]:
        print("note: scores are not as of the data end; truth/future_orders starts at the data end")
    print(f"customers evaluated: {len(frame):,}, buying in the horizon: {int(frame['label'].sum()):,}\n")
    print(report(frame).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
