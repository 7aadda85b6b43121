"""The readout statistics (microseg.activation) against known values: scipy's
own tests, hand calculations and simulations with a planted uplift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from microseg.activation.readout import SETTINGS, readout_table, settings_from_dbt
from microseg.activation.stats import (
    benjamini_hochberg,
    mean_difference,
    minimum_detectable_effect,
    sample_ratio_mismatch,
    two_proportion_test,
)


def test_two_proportion_z_test_matches_the_chi_square_test():
    # the pooled two-proportion z-test is the 2x2 chi-square test without continuity correction: z^2 = chi2
    x_t, n_t, x_c, n_c = 120, 1000, 90, 1000
    res = two_proportion_test(x_t, n_t, x_c, n_c)
    chi2, p, _, _ = stats.chi2_contingency([[x_t, n_t - x_t], [x_c, n_c - x_c]], correction=False)
    assert float(res.z) ** 2 == pytest.approx(chi2)
    assert float(res.p_value) == pytest.approx(p)
    assert float(res.abs_lift) == pytest.approx(0.03)


def test_difference_interval_is_newcombes_hybrid_score_interval():
    # Newcombe (1998), Stat Med 17:873, table II example (56/70 vs 48/80), method 10: 0.0524 to 0.3339
    res = two_proportion_test(56, 70, 48, 80)
    assert float(res.abs_ci_low) == pytest.approx(0.0524, abs=1e-4)
    assert float(res.abs_ci_high) == pytest.approx(0.3339, abs=1e-4)
    # an arm without conversions does not collapse the interval to a point (the Wald interval would be [0.05, 0.05])
    res = two_proportion_test(10, 200, 0, 40)
    assert float(res.abs_ci_low) < 0 < float(res.abs_ci_high)


def test_relative_lift_and_its_log_ratio_interval():
    # 0.12 / 0.09 - 1 = 1/3; se(log ratio) = sqrt(.88/120 + .91/90) = 0.13197
    res = two_proportion_test(120, 1000, 90, 1000)
    assert float(res.rel_lift) == pytest.approx(1 / 3)
    se = np.sqrt(0.88 / 120 + 0.91 / 90)
    assert float(res.rel_ci_low) == pytest.approx(4 / 3 * np.exp(-1.959964 * se) - 1, abs=1e-6)
    assert float(res.rel_ci_high) == pytest.approx(4 / 3 * np.exp(1.959964 * se) - 1, abs=1e-6)


def test_two_proportion_edge_cases_are_nan_not_errors():
    res = two_proportion_test([0, 5, 0], [100, 0, 100], [0, 3, 4], [100, 50, 100])
    assert np.isnan(res.p_value[0])  # no conversion anywhere: nothing to test
    assert np.isnan(res.rate_t[1])  # empty arm
    assert np.isnan(res.rel_ci_low[2])  # no treatment conversion: ratio interval undefined
    # expected conversions 2 per arm: Fisher's exact test, not the z-test
    assert res.p_value[2] == pytest.approx(stats.fisher_exact([[0, 100], [4, 96]]).pvalue)


def test_mean_difference_matches_welch_large_sample():
    rng = np.random.default_rng(1)
    a, b = rng.gamma(2.0, 30.0, 4000), rng.gamma(2.0, 28.0, 3000)
    res = mean_difference(a.sum(), (a**2).sum(), len(a), b.sum(), (b**2).sum(), len(b))
    welch = stats.ttest_ind(a, b, equal_var=False)
    assert float(res.diff) == pytest.approx(a.mean() - b.mean())
    assert float(res.p_value) == pytest.approx(welch.pvalue, rel=1e-2)  # normal vs t with ~6,500 df
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    assert float(res.ci_high - res.ci_low) == pytest.approx(2 * 1.959964 * se, rel=1e-6)


def test_sample_ratio_mismatch_matches_scipy_chisquare():
    p = sample_ratio_mismatch([820, 800], [180, 200], [0.8, 0.8])
    assert p[0] == pytest.approx(stats.chisquare([820, 180], [800, 200]).pvalue)
    assert p[1] == pytest.approx(1.0)
    assert sample_ratio_mismatch(5200, 4800, 0.5) < 0.001  # a real SRM: 52/48 on 10,000


def test_minimum_detectable_effect_hand_calculation():
    # (1.959964 + 0.841621) * sqrt(0.1 * 0.9 * (1/1000 + 1/1000)) = 2.801585 * 0.0134164 = 0.037587
    assert float(minimum_detectable_effect(0.1, 1000, 1000)) == pytest.approx(0.037587, abs=1e-5)
    assert np.isnan(minimum_detectable_effect(0.0, 1000, 1000))


def test_benjamini_hochberg_hand_calculation():
    # m = 5: sorted p * m / rank = .005, .0125, .02, .0375(.03*5/4), .5 -> monotone from the top
    p = [0.01, 0.001, 0.5, 0.03, 0.008]
    expected = [0.01666667, 0.005, 0.5, 0.0375, 0.01666667]
    np.testing.assert_allclose(benjamini_hochberg(p), expected, rtol=1e-6)
    q = benjamini_hochberg([0.02, np.nan, 0.04])
    assert np.isnan(q[1]) and q[0] == pytest.approx(0.04) and q[2] == pytest.approx(0.04)


SETTINGS_DEFAULT = {"confidence": 0.95, "power": 0.8, "fdr_level": 0.05, "srm_alpha": 0.001,
                    "min_arm_size": 100, "max_relative_mde": 0.5}  # fmt: skip


def simulate_cells(uplifts: dict[str, float], rng, n=4000, base=0.10, control_share=0.5, campaigns=10) -> pd.DataFrame:
    """Campaign x segment cells with a planted absolute conversion uplift per segment (revenue 50 EUR per
    conversion), as experiment_readout_cells delivers them."""
    rows = []
    for c in range(campaigns):
        for seg, lift in uplifts.items():
            n_c = rng.binomial(n, control_share)
            n_t = n - n_c
            x_t, x_c = rng.binomial(n_t, base + lift), rng.binomial(n_c, base)
            rows.append({"campaign_id": f"C{c}", "segment_name": seg, "treatment_share": 1 - control_share,
                         "recipients_treatment": n_t, "conversions_treatment": x_t,
                         "revenue_treatment_eur": 50.0 * x_t, "revenue_sq_treatment": 2500.0 * x_t,
                         "recipients_control": n_c, "conversions_control": x_c,
                         "revenue_control_eur": 50.0 * x_c, "revenue_sq_control": 2500.0 * x_c})  # fmt: skip
    return pd.DataFrame(rows)


def test_readout_recovers_planted_uplift_and_controls_false_discoveries():
    """The issue's figures on a simulation: the 95% interval covers the planted uplift in >= 90% of the
    powered cells, and zero-uplift cells are declared significant after BH no more often than the FDR level."""
    rng = np.random.default_rng(42)
    uplifts = {"zero_a": 0.0, "zero_b": 0.0, "zero_c": 0.0, "plus": 0.03, "minus": -0.025, "small": 0.01}
    out = readout_table(simulate_cells(uplifts, rng, campaigns=40), SETTINGS_DEFAULT)
    out["planted"] = out["segment_name"].map(uplifts)
    powered = out[~out["is_underpowered"]]
    covered = (powered["conversion_lift_abs_ci_low"] <= powered["planted"]) & (
        powered["planted"] <= powered["conversion_lift_abs_ci_high"]
    )
    assert len(powered) >= 200 and covered.mean() >= 0.90
    zero = out[out["planted"] == 0]
    assert zero["is_significant"].mean() <= 0.05
    # the planted effects are found (power ~0.85 per test before the FDR correction), never with the wrong sign
    plus, minus = out[out["segment_name"] == "plus"], out[out["segment_name"] == "minus"]
    assert plus["is_significant"].mean() > 0.5 and (plus.loc[plus["is_significant"], "conversion_lift_abs"] > 0).all()
    assert minus["is_significant"].mean() > 0.3
    assert (minus.loc[minus["is_significant"], "conversion_lift_abs"] < 0).all()


def test_readout_flags_small_cells_and_srm():
    cells = pd.DataFrame([
        {"campaign_id": "C1", "segment_name": "tiny", "treatment_share": 0.8,
         "recipients_treatment": 40, "conversions_treatment": 4, "revenue_treatment_eur": 200.0,
         "revenue_sq_treatment": 10000.0, "recipients_control": 10, "conversions_control": 1,
         "revenue_control_eur": 50.0, "revenue_sq_control": 2500.0},
        {"campaign_id": "C1", "segment_name": "skewed", "treatment_share": 0.5,
         "recipients_treatment": 6000, "conversions_treatment": 600, "revenue_treatment_eur": 30000.0,
         "revenue_sq_treatment": 1.5e6, "recipients_control": 4000, "conversions_control": 400,
         "revenue_control_eur": 20000.0, "revenue_sq_control": 1e6},
    ])  # fmt: skip
    out = readout_table(cells, SETTINGS_DEFAULT).set_index("segment_name")
    assert out.loc["tiny", "is_underpowered"] and not out.loc["skewed", "is_underpowered"]
    assert out.loc["skewed", "has_sample_ratio_mismatch"] and not out.loc["tiny", "has_sample_ratio_mismatch"]
    assert out.loc["skewed", "conversion_lift_abs"] == pytest.approx(0.0)


def test_settings_come_from_the_dbt_config_only():
    typed = settings_from_dbt({k: str(v) for k, v in SETTINGS_DEFAULT.items()})
    assert typed == SETTINGS_DEFAULT and isinstance(typed["min_arm_size"], int)
    with pytest.raises(ValueError, match="lacks fdr_level"):
        settings_from_dbt({k: "1" for k in SETTINGS if k != "fdr_level"})


def test_small_cells_keep_their_coverage_and_false_positive_rate():
    """The demo's cells are small (a median control arm of ~35 recipients at a ~6% conversion rate): there the
    interval must still cover a zero uplift >= 93% of the time (96.6% measured; the Wald interval: 87.4%) and
    the test reject < 6.5% of the time (3.2% measured)."""
    rng = np.random.default_rng(7)
    cells = simulate_cells({f"s{i}": 0.0 for i in range(10)}, rng, n=180, base=0.06, control_share=0.2, campaigns=100)
    out = readout_table(cells, SETTINGS_DEFAULT)
    covered = (out["conversion_lift_abs_ci_low"] <= 0) & (0 <= out["conversion_lift_abs_ci_high"])
    assert covered.mean() >= 0.93
    assert (out["conversion_p_value"] < 0.05).mean() < 0.065
    assert out["is_significant"].sum() <= 1
