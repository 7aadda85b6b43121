"""The experiment readout: one row per campaign x segment cell with both arms'
outcomes, lifts with intervals, p-values, the sample-ratio-mismatch check, the
minimum detectable effect, an underpowered flag and Benjamini-Hochberg
q-values across the cells (microseg.activation.stats).

Input: one row per cell, as the SQL model experiment_readout_cells builds it
(recipients, conversions, revenue sum and sum of squares per arm, the designed
treatment share). Settings: the `experiments` dict of the dbt model config.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from microseg.activation.stats import (
    benjamini_hochberg,
    mean_difference,
    minimum_detectable_effect,
    sample_ratio_mismatch,
    two_proportion_test,
)

SETTINGS = ("confidence", "power", "fdr_level", "srm_alpha", "min_arm_size", "max_relative_mde")
KEYS = ["campaign_id", "segment_name"]


def readout_table(cells: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """Cells -> readout. `settings` must hold every key of SETTINGS (no
    defaults here: the project's vars are the one place they are set). The
    FDR family is every segment cell of the table (segment_name '(all)' rows,
    the whole campaign, are a family of their own)."""
    missing = [k for k in SETTINGS if k not in settings]
    if missing:
        raise ValueError(f"readout_table: settings lack {', '.join(missing)}")
    c = cells.sort_values(KEYS).reset_index(drop=True)
    n_t, n_c = c["recipients_treatment"].to_numpy(float), c["recipients_control"].to_numpy(float)
    conv = two_proportion_test(c["conversions_treatment"], n_t, c["conversions_control"], n_c, settings["confidence"])
    rev = mean_difference(c["revenue_treatment_eur"], c["revenue_sq_treatment"], n_t,
                          c["revenue_control_eur"], c["revenue_sq_control"], n_c, settings["confidence"])  # fmt: skip
    alpha = 1 - settings["confidence"]
    mde = minimum_detectable_effect(conv.rate_c, n_t, n_c, alpha=alpha, power=settings["power"])
    srm_p = sample_ratio_mismatch(n_t, n_c, c["treatment_share"])
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_mde = mde / conv.rate_c
    underpowered = (
        (np.minimum(n_t, n_c) < settings["min_arm_size"]) | ~(rel_mde <= settings["max_relative_mde"])
    )  # NaN MDE (no conversion in control) counts as underpowered
    q = np.full(len(c), np.nan)
    for is_total in (True, False):
        family = (c["segment_name"] == "(all)").to_numpy() == is_total
        q[family] = benjamini_hochberg(conv.p_value[family])
    out = pd.DataFrame(
        {
            "campaign_id": c["campaign_id"],
            "segment_name": c["segment_name"],
            "recipients_treatment": n_t.astype("int64"),
            "recipients_control": n_c.astype("int64"),
            "treatment_share": c["treatment_share"].astype(float),
            "conversion_rate_treatment": conv.rate_t,
            "conversion_rate_control": conv.rate_c,
            "conversion_lift_abs": conv.abs_lift,
            "conversion_lift_abs_ci_low": conv.abs_ci_low,
            "conversion_lift_abs_ci_high": conv.abs_ci_high,
            "conversion_lift_rel": conv.rel_lift,
            "conversion_lift_rel_ci_low": conv.rel_ci_low,
            "conversion_lift_rel_ci_high": conv.rel_ci_high,
            "conversion_p_value": conv.p_value,
            "conversion_q_value": q,
            "is_significant": q <= settings["fdr_level"],
            "revenue_per_recipient_treatment_eur": rev.mean_t,
            "revenue_per_recipient_control_eur": rev.mean_c,
            "revenue_lift_eur": rev.diff,
            "revenue_lift_ci_low_eur": rev.ci_low,
            "revenue_lift_ci_high_eur": rev.ci_high,
            "revenue_p_value": rev.p_value,
            "srm_p_value": srm_p,
            "has_sample_ratio_mismatch": srm_p < settings["srm_alpha"],
            "mde_abs": mde,
            "mde_rel": rel_mde,
            "is_underpowered": underpowered,
        }
    )
    return out


def settings_from_dbt(config: dict | None) -> dict:
    """The `experiments` dict of the model config (values rendered by dbt as
    text) -> typed settings; a missing key is one clear error naming it."""
    if not config:
        raise ValueError("experiment_readout: config `experiments` is missing "
                         "(python_models/activation/_activation__python_models.yml)")
    kinds = {"min_arm_size": int}
    missing = [k for k in SETTINGS if k not in config]
    if missing:
        raise ValueError(f"experiment_readout: config `experiments` lacks {', '.join(missing)}")
    return {k: kinds.get(k, float)(config[k]) for k in SETTINGS}
