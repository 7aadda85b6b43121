"""Check the experiment readout and the basket rules against the generator's truth.

``python -m microseg.activation.truth_eval --db data/microseg.duckdb --truth data/truth``

Experiments. The generator plants A/B tests in a few sent email campaigns
with a known uplift per persona (truth/campaign_uplift.parquet). Segments are
not personas, so the evaluation reads the readout per persona instead, here
only: the recipients' outcomes (activation.experiment_outcomes, the project's
one conversion definition) are joined to their true persona through the id
the email went to (truth/campaign_recipients.parquet), aggregated per
campaign x persona like experiment_readout_cells, and passed through the
project's readout (microseg.activation.readout). Per cell: does the 95%
interval of the absolute lift cover the true average uplift of the cell's
recipients; which zero-uplift cells are significant after the FDR correction.

Basket rules. The rank by lift of each planted category pair among the
distinct category pairs of activation.basket_category_rules (scope '(all)';
lift is symmetric, so both directions count as one pair).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import pandas as pd

from microseg.activation.readout import readout_table

#: the project's defaults (dbt_project.yml microseg__experiment_*)
DEFAULT_SETTINGS = {
    "confidence": 0.95,
    "power": 0.8,
    "fdr_level": 0.05,
    "srm_alpha": 0.001,
    "min_arm_size": 100,
    "max_relative_mde": 0.5,
}


def persona_cells(outcomes: pd.DataFrame, recipients: pd.DataFrame) -> pd.DataFrame:
    """experiment_outcomes rows of the planted campaigns -> readout cells per campaign x persona
    (column segment_name holds the persona). Recipients the truth does not know are dropped."""
    truth = recipients[["campaign_id", "recipient_id", "persona"]].drop_duplicates(["campaign_id", "recipient_id"])
    rows = outcomes.merge(truth, on=["campaign_id", "recipient_id"], how="inner")
    rows = rows.assign(
        is_t=rows["arm"].eq("treatment"),
        conv=rows["is_converted"].astype(bool),
        rev=rows["revenue_eur"].astype(float),
    )
    t, c = rows[rows["is_t"]], rows[~rows["is_t"]]
    keys = ["campaign_id", "persona"]

    def arm(frame: pd.DataFrame, suffix: str) -> pd.DataFrame:
        return frame.groupby(keys).agg(
            **{
                f"recipients_{suffix}": ("conv", "size"),
                f"conversions_{suffix}": ("conv", "sum"),
                f"revenue_{suffix}_eur": ("rev", "sum"),
                f"revenue_sq_{suffix}": ("rev", lambda x: float((x * x).sum())),
            }
        )

    cells = arm(t, "treatment").join(arm(c, "control"), how="outer").fillna(0).reset_index()
    share = rows.groupby(keys)["control_share"].max().reset_index()
    cells = cells.merge(share, on=keys)
    cells["treatment_share"] = 1 - cells.pop("control_share")
    return cells.rename(columns={"persona": "segment_name"})


def experiment_figures(readout: pd.DataFrame, uplift: pd.DataFrame, min_arm: int) -> dict:
    """Coverage of the true uplift and false discoveries, over all cells and those with both arms >= min_arm."""
    cells = readout[readout["segment_name"] != "(all)"].merge(
        uplift.rename(columns={"persona": "segment_name"}), on=["campaign_id", "segment_name"], how="inner"
    )
    cells["covers"] = (cells["conversion_lift_abs_ci_low"] <= cells["true_average_uplift"]) & (
        cells["true_average_uplift"] <= cells["conversion_lift_abs_ci_high"]
    )
    sized = cells[cells[["recipients_treatment", "recipients_control"]].min(axis=1) >= min_arm]
    zero = cells[cells["planted_uplift"] == 0]
    nonzero = cells[cells["planted_uplift"] != 0]
    return {
        "cells": len(cells),
        "coverage_all": float(cells["covers"].mean()) if len(cells) else float("nan"),
        "cells_sized": len(sized),
        "coverage_sized": float(sized["covers"].mean()) if len(sized) else float("nan"),
        "zero_cells": len(zero),
        "zero_significant": int(zero["is_significant"].sum()),
        "zero_raw_p_below_5pct": int((zero["conversion_p_value"] < 0.05).sum()),
        "nonzero_cells": len(nonzero),
        "nonzero_significant": int(nonzero["is_significant"].sum()),
        "nonzero_sign_right": int(
            (nonzero["is_significant"] & (nonzero["conversion_lift_abs"] * nonzero["planted_uplift"] > 0)).sum()
        ),
        "table": cells,
    }


def pooled_figures(cells: pd.DataFrame, uplift: pd.DataFrame, settings: dict) -> dict:
    """The zero-uplift cells pooled into one cell and the non-zero ones into another, read out like any
    cell: a pooled cell has the power a persona cell lacks, so a readout that invents (or loses) lift
    shows there. Returns per group: the interval and the true average uplift (recipient-weighted)."""
    u = uplift.rename(columns={"persona": "segment_name"})
    c = cells.merge(u, on=["campaign_id", "segment_name"], how="inner")
    c["group"] = c["planted_uplift"].eq(0).map({True: "zero", False: "nonzero"})
    c["weighted"] = c["true_average_uplift"] * (c["recipients_treatment"] + c["recipients_control"])
    sums = c.groupby("group")[[col for col in c.columns if col.startswith(("recipients_", "conversions_",
                                                                              "revenue_")) or col == "weighted"]].sum()  # fmt: skip
    sums["treatment_share"] = c.groupby("group")["treatment_share"].mean()
    pooled = readout_table(sums.reset_index().rename(columns={"group": "segment_name"}).assign(campaign_id="pooled"),
                           settings).set_index("segment_name")  # fmt: skip
    out = {}
    for group in pooled.index:
        truth = sums.loc[group, "weighted"] / (sums.loc[group, "recipients_treatment"] + sums.loc[group, "recipients_control"])
        low, high = pooled.loc[group, "conversion_lift_abs_ci_low"], pooled.loc[group, "conversion_lift_abs_ci_high"]
        out[group] = {"lift": float(pooled.loc[group, "conversion_lift_abs"]), "ci_low": float(low),
                      "ci_high": float(high), "true_average_uplift": float(truth), "covers": bool(low <= truth <= high)}  # fmt: skip
    return out


def pair_ranks(rules: pd.DataFrame, pairs: pd.DataFrame) -> dict[str, int | None]:
    """Rank (1 = highest lift) of each planted pair among the distinct unordered pairs of the '(all)' rules."""
    r = rules[rules["segment_name"] == "(all)"].copy()
    r["pair"] = [" & ".join(sorted(p)) for p in zip(r["antecedent_category"], r["consequent_category"])]
    best = r.groupby("pair")["lift"].max().sort_values(ascending=False)
    rank = {p: i + 1 for i, p in enumerate(best.index)}
    return {
        f"{a} & {b}": rank.get(" & ".join(sorted((a, b))))
        for a, b in zip(pairs["antecedent"], pairs["consequent"])
    } | {"(distinct pairs)": len(best)}


def evaluate(db: Path | str, truth: Path | str, settings: dict | None = None) -> dict:
    """Read the built database and the truth folder; returns the figures (see module docstring)."""
    settings = {**DEFAULT_SETTINGS, **(settings or {})}
    truth = Path(truth)
    recipients = pd.read_parquet(truth / "campaign_recipients.parquet")
    uplift = pd.read_parquet(truth / "campaign_uplift.parquet")
    pairs = pd.read_parquet(truth / "category_pairs.parquet")
    with duckdb.connect(str(db), read_only=True) as con:
        outcomes = con.execute(
            "select campaign_id, recipient_id, arm, control_share, is_converted, revenue_eur "
            "from activation.experiment_outcomes where campaign_id in (select unnest(?))",
            [sorted(uplift["campaign_id"].unique())],
        ).df()
        rules = con.execute("select * from activation.basket_category_rules").df()
    cells = persona_cells(outcomes, recipients)
    readout = readout_table(cells, settings)
    figures = experiment_figures(readout, uplift, settings["min_arm_size"])
    figures["pooled"] = pooled_figures(cells, uplift, settings)
    figures["pair_ranks"] = pair_ranks(rules, pairs)
    top = rules[rules["segment_name"] == "(all)"].sort_values("lift", ascending=False)
    figures["top_rules"] = top[["antecedent_category", "consequent_category", "lift"]].head(8)
    return figures


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m microseg.activation.truth_eval", description=__doc__.split("\n")[0])
    p.add_argument("--db", default="data/microseg.duckdb")
    p.add_argument("--truth", default="data/truth")
    a = p.parse_args(argv)
    for path in (Path(a.db), Path(a.truth) / "campaign_uplift.parquet"):
        if not path.exists():
            print(f"truth_eval: {path} not found (make demo, or pass --db / --truth)", file=sys.stderr)
            return 2
    f = evaluate(a.db, a.truth)
    cols = ["campaign_id", "segment_name", "recipients_treatment", "recipients_control", "planted_uplift",
            "true_average_uplift", "conversion_lift_abs", "conversion_lift_abs_ci_low",
            "conversion_lift_abs_ci_high", "covers", "conversion_q_value", "is_significant"]  # fmt: skip
    with pd.option_context("display.width", 220, "display.max_rows", 200, "display.precision", 4):
        print(f["table"][cols].to_string(index=False))
        print(f["top_rules"].to_string(index=False))
    print(
        f"cells {f['cells']}: interval covers the true uplift in {f['coverage_all']:.1%}; "
        f"{f['cells_sized']} cells with both arms >= {DEFAULT_SETTINGS['min_arm_size']}: {f['coverage_sized']:.1%}"
    )
    print(
        f"zero-uplift cells {f['zero_cells']}: significant after FDR {f['zero_significant']} "
        f"(raw p < 0.05: {f['zero_raw_p_below_5pct']}); non-zero cells {f['nonzero_cells']}: "
        f"significant {f['nonzero_significant']}, with the planted sign {f['nonzero_sign_right']}"
    )
    for group, g in f["pooled"].items():
        print(f"pooled {group}-uplift cells: lift {g['lift']:+.4f} [{g['ci_low']:+.4f}, {g['ci_high']:+.4f}], "
              f"true {g['true_average_uplift']:+.4f}, covered: {g['covers']}")  # fmt: skip
    print("planted pair ranks by lift:", f["pair_ranks"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
