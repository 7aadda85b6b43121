"""Customer value and churn on CDNOW, and paired intervals for the propensity lead.

    python -m microseg.value.cdnow_value [--out data/cdnow] [--skip-dbt]

1. Classic split (Fader, Hardie and Lee 2005): BG/NBD and Gamma-Gamma fitted
   on 1997-01-01 .. 1997-09-30 (39 weeks), expected revenue of the next 39
   weeks (to 1998-06-30) against what each customer bought, next to two naive
   values (past spend; past spend per week x 39). No LightGBM here: every CDNOW
   customer's first purchase is in 1997-Q1, so no training snapshot with a
   39-week window after it fits before the calibration end.
2. dbt builds of the value models (``+customer_value_metrics``, tests
   included) as of 1997-12-31 and 1998-03-31 with a 3-month value horizon and
   a 91-day churn window: the forward rows of customer_value_metrics (LightGBM
   value vs BTYD value, churn model vs BG/NBD 1 - P(alive)), with paired
   bootstrap intervals of the differences from the per-customer scores.
3. Paired bootstrap intervals of the propensity model's ROC-AUC minus BG/NBD's
   on the propensity builds of ``make cdnow`` (data/cdnow/cdnow_<cutoff>.duckdb),
   when they exist.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from microseg.propensity import bgnbd, cdnow
from microseg.value import bootstrap, clv, gammagamma

CALIBRATION_END = "1997-09-30"
DATA_END = "1998-06-30"
CUTOFFS = ("1997-12-31", "1998-03-31")
VALUE_HORIZON_MONTHS = 3
CHURN_DAYS = 91


def rfm_at(master: pd.DataFrame, cutoff: str, end: str) -> pd.DataFrame:
    """Per customer with a purchase by ``cutoff``: x, t_x, T (weeks), mbar (mean spend per repeat purchase
    day), past spend, and the spend in (cutoff, end]."""
    c, e = pd.Timestamp(cutoff), pd.Timestamp(end)
    days = master.assign(day=pd.to_datetime(master["order_date"])).groupby(["customer_id", "day"], as_index=False)[
        "amount_usd"].sum()
    cal = days[days["day"] <= c].sort_values(["customer_id", "day"])
    cal = cal.assign(n=cal.groupby("customer_id").cumcount())
    g = cal.groupby("customer_id")
    out = pd.DataFrame({
        "x": g["n"].max().astype(float),
        "t_x": (g["day"].max() - g["day"].min()).dt.days / 7.0,
        "T": (c - g["day"].min()).dt.days / 7.0,
        "past_spend": g["amount_usd"].sum(),
    })
    out["mbar"] = cal[cal["n"] > 0].groupby("customer_id")["amount_usd"].mean()
    hold = days[(days["day"] > c) & (days["day"] <= e)].groupby("customer_id")["amount_usd"].sum()
    out["actual"] = hold.reindex(out.index).fillna(0.0)
    return out


def classic_split(master: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    frame = rfm_at(master, CALIBRATION_END, DATA_END)
    weeks = (pd.Timestamp(DATA_END) - pd.Timestamp(CALIBRATION_END)).days / 7.0
    bg = bgnbd.fit(frame["x"], frame["t_x"], frame["T"])
    gg = gammagamma.fit(frame["x"], frame["mbar"])
    purchases = bgnbd.expected_purchases(bg, weeks, frame["x"], frame["t_x"], frame["T"])
    spend = gammagamma.expected_spend(gg, frame["x"], frame["mbar"])
    scorers = {
        "btyd (BG/NBD x Gamma-Gamma)": purchases * spend,
        "past spend per week x 39": frame["past_spend"] / frame["T"].clip(lower=1.0) * weeks,
        "past spend": frame["past_spend"],
    }
    rows = [{"scorer": name, **clv.value_metrics(frame["actual"], s)} for name, s in scorers.items()]
    info = {"customers": len(frame), "bgnbd": bg.as_dict(), "gamma_gamma": gg.as_dict(),
            "corr_x_mbar": float(frame[["x", "mbar"]].dropna().corr().iloc[0, 1])}
    return pd.DataFrame(rows), info


def run_value_build(raw_dir: Path, db: Path, cutoff: str, dbt: str, log: Path) -> int:
    if db.exists():
        db.unlink()
    env = {**os.environ, "MICROSEG_RAW_PATH": str(raw_dir), "MICROSEG_DUCKDB_PATH": str(db),
           "DBT_PROFILES_DIR": os.environ.get("DBT_PROFILES_DIR", ".")}
    vars_ = json.dumps({"microseg__as_of_date": cutoff, "microseg__value_horizon_months": VALUE_HORIZON_MONTHS,
                        "microseg__churn_inactive_days": CHURN_DAYS})
    # two dbt threads: LightGBM then takes cores // 2 = 1 thread (train.lightgbm_threads); with one dbt thread it
    # took both cores and, on a loaded machine, spun (a 1,800-row CV: 52 s instead of 2.3 s)
    cmd = [dbt, "build", "--threads", "2", "--select", "+customer_value_metrics", "+customer_value", "+dim_customers",
           "--indirect-selection", "cautious", "--vars", vars_]
    with open(log, "w") as fh:
        return subprocess.run(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT).returncode


def _capture(y, s):
    k = max(1, int(np.ceil(0.1 * len(y))))
    return float(np.asarray(y)[np.argsort(-np.asarray(s), kind="stable")[:k]].sum() / np.sum(y))


def _spearman(y, s):
    return float(pd.Series(y).corr(pd.Series(s), method="spearman"))


def _neg_mae(y, s):
    return -float(np.mean(np.abs(np.asarray(y) - np.asarray(s))))


def value_intervals(db: Path) -> pd.DataFrame:
    """Paired bootstrap of LightGBM minus BTYD (value) and churn model minus 1 - P(alive) on the forward rows."""
    with duckdb.connect(str(db), read_only=True) as con:
        frame = con.sql(
            "select p.*, l.next_revenue_eur, l.is_churned, l.is_value_label_complete, l.is_churn_label_complete "
            "from ml.customer_value_predictions p join marts.customer_value_labels l "
            "on p.customer_key = l.customer_key and l.snapshot_kind = 'scoring'").df()
    rows = []
    done = frame[frame["is_value_label_complete"]]
    y = done["next_revenue_eur"].to_numpy(float)
    for name, metric in (("spearman", _spearman), ("minus_mae_eur", _neg_mae), ("top_decile_revenue_share", _capture)):
        r = bootstrap.paired_difference(y, done["model_expected_revenue_eur"], done["btyd_expected_revenue_eur"],
                                        metric, rounds=300)
        rows.append({"subject": "value", "metric": name, "model_vs": "btyd", **r})
    done = frame[frame["is_churn_label_complete"]]
    y = done["is_churned"].astype(float).to_numpy()
    for base, score in clv.churn_baselines(done).items():
        r = bootstrap.paired_difference(y, done["churn_risk"], score, roc_auc_score, rounds=300)
        rows.append({"subject": "churn", "metric": "roc_auc", "model_vs": base, **r})
    return pd.DataFrame(rows)


def propensity_intervals(db: Path) -> dict:
    """Model minus BG/NBD forward ROC-AUC with its paired bootstrap interval, from a `make cdnow` build; the
    BG/NBD baseline is the one fitted on the scoring snapshot (bgnbd_baseline_expected_purchases). Rows in
    customer order, so the bootstrap's resamples (and the interval) repeat run to run."""
    with duckdb.connect(str(db), read_only=True) as con:
        frame = con.sql(
            "select p.propensity, p.bgnbd_baseline_expected_purchases, l.target_happened "
            "from ml.propensity_predictions p "
            "join marts.propensity_labels l on p.customer_key = l.customer_key and l.snapshot_kind = 'scoring' "
            "where l.is_label_complete order by p.customer_key").df()
    y = frame["target_happened"].astype(float).to_numpy()
    return bootstrap.paired_difference(y, frame["propensity"], frame["bgnbd_baseline_expected_purchases"],
                                       rounds=1000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="data/cdnow", type=Path)
    parser.add_argument("--cutoffs", nargs="+", default=list(CUTOFFS))
    parser.add_argument("--skip-dbt", action="store_true", help="only the classic split and existing builds")
    parser.add_argument("--dbt", default=str(Path(sys.executable).parent / "dbt"))
    args = parser.parse_args(argv)
    pd.set_option("display.width", 200)
    fmt = {"float_format": lambda v: f"{v:,.4f}"}

    master = cdnow.read_master(cdnow.fetch_master(args.out))
    table, info = classic_split(master)
    print(f"Classic split: calibration to {CALIBRATION_END}, value of the next 39 weeks to {DATA_END}; "
          f"{info['customers']:,} customers")
    print(f"BG/NBD {json.dumps({k: round(v, 4) for k, v in info['bgnbd'].items()})}, Gamma-Gamma "
          f"{json.dumps({k: round(v, 3) for k, v in info['gamma_gamma'].items()})}, corr(x, mbar) "
          f"{info['corr_x_mbar']:.3f}")
    print(table.to_string(index=False, **fmt))

    status = 0
    if not args.skip_dbt:
        cdnow.to_raw_contract(master, args.out / "raw")
    for cutoff in args.cutoffs:
        db = args.out / f"cdnow_value_{cutoff}.duckdb"
        if not args.skip_dbt:
            rc = run_value_build(args.out / "raw", db, cutoff, args.dbt, args.out / f"dbt_value_{cutoff}.log")
            if rc != 0:
                print(f"\ncutoff {cutoff}: dbt build exited {rc}; see {args.out}/dbt_value_{cutoff}.log")
                status = 1
        if db.exists():
            with duckdb.connect(str(db), read_only=True) as con:
                metrics = con.sql("select evaluation_set, subject, scorer, metric, metric_value "
                                  "from marts.customer_value_metrics where metric in "
                                  "('pearson', 'spearman', 'mae_eur', 'top_decile_revenue_share', 'roc_auc') "
                                  "order by 1, 2, 3, 4").df()
            wide = metrics.pivot_table(index=["evaluation_set", "subject", "scorer"], columns="metric",
                                       values="metric_value")
            print(f"\nCutoff {cutoff}: value over {VALUE_HORIZON_MONTHS} months, churn = no purchase in "
                  f"{CHURN_DAYS} days")
            print(wide.to_string(**fmt))
            print("paired bootstrap (model minus the other), 95% interval:")
            print(value_intervals(db).to_string(index=False, **fmt))
        prop_db = args.out / f"cdnow_{cutoff}.duckdb"
        if prop_db.exists():
            r = propensity_intervals(prop_db)
            print(f"propensity ({prop_db.name}): ROC-AUC model {r['a']:.4f}, BG/NBD {r['b']:.4f}, "
                  f"difference {r['diff']:+.4f} [{r['diff_low']:+.4f}, {r['diff_high']:+.4f}], "
                  f"above zero in {r['share_above_zero']:.1%} of {int(r['rounds_used'])} resamples")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
