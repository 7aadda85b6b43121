"""Statistics of a two-arm experiment readout, vectorised over cells.

Every function takes numpy arrays (or scalars) of per-arm counts or moments,
one element per cell (campaign x segment), and returns arrays of the same
length. Undefined results (an empty arm, zero variance) are NaN, never an
exception: a readout cell that cannot be judged says so with NaN and its
is_underpowered flag.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


@dataclass(frozen=True)
class ProportionTest:
    """Two-proportion comparison of treatment (t) against control (c)."""

    rate_t: np.ndarray
    rate_c: np.ndarray
    abs_lift: np.ndarray  # rate_t - rate_c
    abs_ci_low: np.ndarray  # Newcombe hybrid score interval
    abs_ci_high: np.ndarray
    rel_lift: np.ndarray  # rate_t / rate_c - 1
    rel_ci_low: np.ndarray  # delta method on log(rate_t / rate_c)
    rel_ci_high: np.ndarray
    z: np.ndarray  # pooled-variance z statistic
    p_value: np.ndarray  # two-sided


def wilson_interval(x, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion x / n (NaN for n = 0)."""
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    z = _z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return np.where(n > 0, centre - half, np.nan), np.where(n > 0, centre + half, np.nan)


def two_proportion_test(x_t, n_t, x_c, n_c, confidence: float = 0.95, exact_below: float = 5) -> ProportionTest:
    """Conversions x out of n recipients per arm -> lift, its interval and a
    two-sided p-value.

    - Interval of the difference: Newcombe's hybrid score interval (1998,
      method 10, from the two Wilson intervals). Unlike the Wald interval it
      keeps its coverage with few conversions and never collapses to a point
      when an arm has none (the Wald interval of 0/40 has width 0).
    - p-value: the pooled two-proportion z-test (scipy / statsmodels
      proportions_ztest) when every expected cell count of the 2x2 table is
      at least `exact_below`, else Fisher's exact test (the z-test is
      anti-conservative there).
    - Relative lift p_t / p_c - 1 with exp(log ratio +- z se) - 1, se^2 =
      (1-p_t)/x_t + (1-p_c)/x_c; NaN when an arm has no conversion."""
    x_t, n_t, x_c, n_c = (np.asarray(a, dtype=float) for a in (x_t, n_t, x_c, n_c))
    x_t, n_t, x_c, n_c = np.broadcast_arrays(x_t, n_t, x_c, n_c)
    z_crit = _z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_t, p_c = np.where(n_t > 0, x_t / n_t, np.nan), np.where(n_c > 0, x_c / n_c, np.nan)
        diff = p_t - p_c
        lo_t, hi_t = wilson_interval(x_t, n_t, confidence)
        lo_c, hi_c = wilson_interval(x_c, n_c, confidence)
        ci_low = diff - np.sqrt((p_t - lo_t) ** 2 + (hi_c - p_c) ** 2)
        ci_high = diff + np.sqrt((hi_t - p_t) ** 2 + (p_c - lo_c) ** 2)
        pooled = (x_t + x_c) / (n_t + n_c)
        se0 = np.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
        z = np.where(se0 > 0, diff / se0, np.nan)
        p = 2 * stats.norm.sf(np.abs(z))
        expected_min = np.minimum(np.minimum(pooled, 1 - pooled) * np.minimum(n_t, n_c), np.inf)
        log_ratio = np.log(p_t / p_c)
        se_log = np.sqrt((1 - p_t) / x_t + (1 - p_c) / x_c)
        ok = (x_t > 0) & (x_c > 0)
        rel = np.where(p_c > 0, p_t / p_c - 1, np.nan)
        rel_lo = np.where(ok, np.exp(log_ratio - z_crit * se_log) - 1, np.nan)
        rel_hi = np.where(ok, np.exp(log_ratio + z_crit * se_log) - 1, np.nan)
    p = np.atleast_1d(p).copy()
    small = np.flatnonzero(np.atleast_1d((expected_min < exact_below) & np.isfinite(z)))
    for i in small:
        a, b = np.atleast_1d(x_t)[i], np.atleast_1d(n_t)[i]
        c, d = np.atleast_1d(x_c)[i], np.atleast_1d(n_c)[i]
        p[i] = stats.fisher_exact([[a, b - a], [c, d - c]]).pvalue
    p = p.reshape(np.shape(z))
    return ProportionTest(p_t, p_c, diff, ci_low, ci_high, rel, rel_lo, rel_hi, z, p)


@dataclass(frozen=True)
class MeanDifference:
    """Difference of means (e.g. revenue per recipient), Welch / normal approximation."""

    mean_t: np.ndarray
    mean_c: np.ndarray
    diff: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray


def mean_difference(sum_t, sumsq_t, n_t, sum_c, sumsq_c, n_c, confidence: float = 0.95) -> MeanDifference:
    """Per arm: sum of the outcome, sum of its squares, recipients -> difference
    of means with a normal (large-sample Welch) interval and two-sided p-value.
    Sample variances use n - 1; an arm of one recipient gives NaN."""
    s_t, q_t, n_t, s_c, q_c, n_c = (np.asarray(a, dtype=float) for a in (sum_t, sumsq_t, n_t, sum_c, sumsq_c, n_c))
    with np.errstate(divide="ignore", invalid="ignore"):
        m_t, m_c = s_t / n_t, s_c / n_c
        var_t = np.maximum(q_t - n_t * m_t**2, 0) / (n_t - 1)
        var_c = np.maximum(q_c - n_c * m_c**2, 0) / (n_c - 1)
        se = np.sqrt(var_t / n_t + var_c / n_c)
        diff = m_t - m_c
        z_crit = _z(confidence)
        p = np.where(se > 0, 2 * stats.norm.sf(np.abs(diff / se)), np.nan)
    return MeanDifference(m_t, m_c, diff, diff - z_crit * se, diff + z_crit * se, p)


def sample_ratio_mismatch(n_t, n_c, expected_treatment_share) -> np.ndarray:
    """Chi-square goodness-of-fit p-value (1 degree of freedom) of the observed
    arm sizes against the designed split; a tiny p-value (< 0.001) means the
    assignment or the logging is broken, not that the campaign worked."""
    n_t, n_c, share = (np.asarray(a, dtype=float) for a in (n_t, n_c, expected_treatment_share))
    total = n_t + n_c
    with np.errstate(divide="ignore", invalid="ignore"):
        e_t, e_c = total * share, total * (1 - share)
        chi2 = (n_t - e_t) ** 2 / e_t + (n_c - e_c) ** 2 / e_c
    return np.where(total > 0, stats.chi2.sf(chi2, df=1), np.nan)


def minimum_detectable_effect(base_rate, n_t, n_c, alpha: float = 0.05, power: float = 0.8) -> np.ndarray:
    """Smallest absolute difference in conversion rate a two-sided test at
    `alpha` detects with probability `power`, given the arm sizes and the
    control rate as the base rate: (z_{1-alpha/2} + z_power) * sqrt(p (1 - p)
    (1/n_t + 1/n_c)). A base rate of 0 or 1 gives 0 variance: NaN."""
    p, n_t, n_c = (np.asarray(a, dtype=float) for a in (base_rate, n_t, n_c))
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.sqrt(p * (1 - p) * (1 / n_t + 1 / n_c))
    mde = (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * sd
    return np.where(sd > 0, mde, np.nan)


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values): reject at FDR level q
    where q_value <= q. NaN p-values stay NaN and do not count as tests.
    Equal to statsmodels' multipletests(method='fdr_bh')[1]."""
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return q
    order = np.argsort(p[ok])
    ranked = p[ok][order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    q[ok] = out
    return q
