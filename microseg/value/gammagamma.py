"""Gamma-Gamma spend model (Fader, Hardie and Lee 2005, "RFM and CLV: using
iso-value curves for customer base analysis"; Fader and Hardie, "The
Gamma-Gamma model of monetary value", 2013 note).

A customer's transaction values z_1..z_x are Gamma(p, nu) around their own
mean; nu ~ Gamma(q, gamma) across customers. Input per customer: x the number
of transactions the mean is over (>= 1) and mbar their mean value (> 0).
The model assumes spend per transaction does not depend on how often one buys
(check the correlation of x and mbar before trusting it).

Maximum likelihood with scipy on log-parameters (positive without bounds).
No dependency on the lifetimes package.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import digamma, gammaln

from microseg.propensity.bgnbd import negative_weighted_fit, unique_rows


class GammaGammaFitError(ValueError):
    """The Gamma-Gamma model cannot be fitted on the given data."""


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    v: float  # gamma in the papers (scale of nu's Gamma prior)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    @property
    def population_mean(self) -> float:
        """E[Z] of a customer with no transaction seen: p * v / (q - 1) (infinite when q <= 1)."""
        return self.p * self.v / (self.q - 1) if self.q > 1 else float("inf")


def _check(x, mbar):
    x = np.asarray(x, dtype=float)
    mbar = np.asarray(mbar, dtype=float)
    if x.shape != mbar.shape:
        raise GammaGammaFitError("x and mbar must have the same length")
    return x, mbar


def log_likelihood(params: GammaGammaParams, x, mbar) -> np.ndarray:
    """Per-customer log-likelihood of the observed mean mbar over x transactions (FH 2013, equation 4)."""
    x, mbar = _check(x, mbar)
    p, q, v = params.p, params.q, params.v
    return (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(v)
            + (p * x - 1) * np.log(mbar) + p * x * np.log(x) - (p * x + q) * np.log(x * mbar + v))


def log_likelihood_and_gradient(params: GammaGammaParams, x, mbar) -> tuple[np.ndarray, list[np.ndarray]]:
    """:func:`log_likelihood` and its derivatives by log p, log q, log v (one array per parameter): the fit's
    analytic gradient, one likelihood evaluation per step instead of four."""
    p, q, v = params.p, params.q, params.v
    log_total = np.log(x * mbar + v)
    psi_pxq = digamma(p * x + q)
    ll = (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(v)
          + (p * x - 1) * np.log(mbar) + p * x * np.log(x) - (p * x + q) * log_total)
    d_p = x * (psi_pxq - digamma(p * x) + np.log(mbar) + np.log(x) - log_total)
    d_q = psi_pxq - digamma(q) + np.log(v) - log_total
    d_v = q / v - (p * x + q) / (x * mbar + v)
    return ll, [p * d_p, q * d_q, v * d_v]


def fit(x, mbar, *, init: GammaGammaParams | None = None) -> GammaGammaParams:
    """Maximum-likelihood (p, q, v) on customers with x >= 1 transactions and mean value mbar > 0.

    Rows with x < 1 or mbar <= 0 (one-time buyers, free items only) carry no
    information about spend variation and are left out. Raises
    GammaGammaFitError when fewer than 2 usable customers remain or the
    optimiser fails.
    """
    x, mbar = _check(x, mbar)
    use = (x >= 1) & np.isfinite(mbar) & (mbar > 0)
    x, mbar = x[use], mbar[use]
    if x.size < 2:
        raise GammaGammaFitError("Gamma-Gamma needs at least two customers with a repeat purchase of value > 0")
    start = np.log(np.array(list((init or GammaGammaParams(1.0, 2.0, float(np.mean(mbar)))).as_dict().values())))
    (x, mbar), weight = unique_rows(x, mbar)  # exact: the likelihood depends on a customer only through (x, mbar)
    weight /= weight.sum()

    def objective(log_params):
        ll, grad = log_likelihood_and_gradient(GammaGammaParams(*np.exp(log_params)), x, mbar)
        return negative_weighted_fit(ll, grad, weight)

    result = minimize(objective, start, method="L-BFGS-B", jac=True, bounds=[(-10.0, 12.0)] * 3,
                      options={"maxiter": 1000})
    if not np.isfinite(result.fun):
        raise GammaGammaFitError(f"Gamma-Gamma fit did not converge: {result.message}")
    return GammaGammaParams(*(float(v) for v in np.exp(result.x)))


def expected_spend(params: GammaGammaParams, x, mbar) -> np.ndarray:
    """E[Z | x, mbar]: the customer's expected value per transaction (FH 2013, equation 5).

    A weighted mean of the population mean p v / (q - 1) and the customer's own
    mbar, the weight on mbar growing with x. Customers with x < 1 or no usable
    mbar get the population mean.
    """
    x, mbar = _check(x, mbar)
    p, q, v = params.p, params.q, params.v
    ok = (x >= 1) & np.isfinite(mbar) & (mbar > 0)
    xs = np.where(ok, x, 0.0)
    ms = np.where(ok, mbar, 0.0)
    weight = p * xs / (p * xs + q - 1)
    return (1 - weight) * params.population_mean + weight * ms


def simulate(params: GammaGammaParams, x, rng: np.random.Generator) -> np.ndarray:
    """Draw mbar for customers with x transactions each (for tests)."""
    x = np.asarray(x, dtype=int)
    nu = rng.gamma(params.q, 1.0 / params.v, size=x.size)
    # the mean of x Gamma(p, nu) draws is Gamma(p x, nu x)
    return rng.gamma(params.p * x, 1.0 / (nu * x))
