"""MBG/NBD (Batislam, Denizel and Filiztekin 2007, "Empirical validation and
comparison of models for customer base analysis").

BG/NBD with one change: a customer may also drop out right after the first
purchase (at time 0), not only after each repeat purchase, so a one-time
buyer is not certainly alive (BG/NBD gives every one-time buyer P(alive) = 1).
Input per customer as in :mod:`microseg.propensity.bgnbd` (x, t_x, T; weeks
in this project). Maximum likelihood with scipy on log-parameters.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1

from microseg.propensity.bgnbd import BGNBDFitError, _check, negative_weighted_fit, unique_rows


class MBGNBDFitError(BGNBDFitError):
    """The MBG/NBD model cannot be fitted on the given data."""


@dataclass(frozen=True)
class MBGNBDParams:
    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _log_dropout_odds(params: MBGNBDParams, x, t_x, T) -> np.ndarray:
    """log of a / (b + x) ((alpha + T) / (alpha + t_x))^(r + x): 'dropped out after the last purchase' over
    'still alive at T'."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    return np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))


def log_likelihood(params: MBGNBDParams, x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood (Batislam et al. 2007, equation 3):
    B(a, b+x+1)/B(a, b) Gamma(r+x) alpha^r / (Gamma(r) (alpha+T)^(r+x)) [1 + dropout odds]."""
    x, t_x, T = _check(x, t_x, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    alive = (gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x + 1) - betaln(a, b)
             - (r + x) * np.log(alpha + T))
    return alive + np.logaddexp(0.0, _log_dropout_odds(params, x, t_x, T))


def log_likelihood_and_gradient(params: MBGNBDParams, x, t_x, T) -> tuple[np.ndarray, list[np.ndarray]]:
    """:func:`log_likelihood` and its derivatives by log r, log alpha, log a, log b (one array per
    parameter): the fit's analytic gradient, one likelihood evaluation per step instead of five."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_alpha_T, log_alpha_tx = np.log(alpha + T), np.log(alpha + t_x)
    odds = np.log(a) - np.log(b + x) + (r + x) * (log_alpha_T - log_alpha_tx)
    ll = (gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x + 1) - betaln(a, b)
          - (r + x) * log_alpha_T + np.logaddexp(0.0, odds))
    dropped = np.exp(odds - np.logaddexp(0.0, odds))  # the dropped-out share of the bracket
    psi_ab, psi_abx = digamma(a + b), digamma(a + b + x + 1)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - log_alpha_T + dropped * (log_alpha_T - log_alpha_tx)
    d_alpha = r / alpha - (r + x) / (alpha + T) + dropped * (r + x) * (1 / (alpha + T) - 1 / (alpha + t_x))
    d_a = psi_ab - psi_abx + dropped / a
    d_b = digamma(b + x + 1) - digamma(b) + psi_ab - psi_abx - dropped / (b + x)
    return ll, [r * d_r, alpha * d_alpha, a * d_a, b * d_b]


def fit(x, t_x, T, *, init: MBGNBDParams | None = None) -> MBGNBDParams:
    """Maximum-likelihood MBG/NBD parameters; MBGNBDFitError when there is nothing to learn from."""
    x, t_x, T = _check(x, t_x, T)
    if x.size == 0:
        raise MBGNBDFitError("MBG/NBD needs at least one customer")
    if not np.any(x > 0):
        raise MBGNBDFitError("MBG/NBD needs at least one repeat purchase to estimate the purchase rate")
    start = np.log(list((init or MBGNBDParams(1.0, max(float(T.mean()), 1.0), 1.0, 1.0)).as_dict().values()))
    (x, t_x, T), weight = unique_rows(x, t_x, T)
    weight /= weight.sum()

    def objective(log_params):
        ll, grad = log_likelihood_and_gradient(MBGNBDParams(*np.exp(log_params)), x, t_x, T)
        return negative_weighted_fit(ll, grad, weight)

    result = minimize(objective, np.clip(start, -9, 9), method="L-BFGS-B", jac=True, bounds=[(-10.0, 10.0)] * 4,
                      options={"maxiter": 500})
    if not np.isfinite(result.fun):
        raise MBGNBDFitError(f"MBG/NBD fit did not converge: {result.message}")
    return MBGNBDParams(*(float(v) for v in np.exp(result.x)))


def p_alive(params: MBGNBDParams, x, t_x, T) -> np.ndarray:
    """P(still alive at T | x, t_x, T) = 1 / (1 + dropout odds); below 1 for one-time buyers too."""
    x, t_x, T = _check(x, t_x, T)
    return 1.0 / (1.0 + np.exp(_log_dropout_odds(params, x, t_x, T)))


def expected_purchases(params: MBGNBDParams, t: float, x, t_x, T, alive=None) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T] (Batislam et al. 2007, equation 8):
    (a+b+x)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x+1; a+b+x; t/(alpha+T+t))] P(alive).
    ``alive``: p_alive(params, x, t_x, T) when already computed (it does not depend on t)."""
    x, t_x, T = _check(x, t_x, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = t / (alpha + T + t)
    hyp = hyp2f1(r + x, b + x + 1, a + b + x, z)
    level = (a + b + x) / (a - 1) * (1 - np.exp((r + x) * np.log((alpha + T) / (alpha + T + t))) * hyp)
    return level * (p_alive(params, x, t_x, T) if alive is None else alive)


def simulate(params: MBGNBDParams, T, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw (x, t_x) for customers of ages T from the MBG/NBD process (for tests)."""
    T = np.asarray(T, dtype=float)
    lam = rng.gamma(params.r, 1.0 / params.alpha, size=T.size)
    p = rng.beta(params.a, params.b, size=T.size)
    x = np.zeros(T.size)
    t_x = np.zeros(T.size)
    for i in range(T.size):
        if rng.random() < p[i]:  # drops out right after the first purchase
            continue
        t = 0.0
        while True:
            t += rng.exponential(1.0 / lam[i])
            if t > T[i]:
                break
            x[i] += 1
            t_x[i] = t
            if rng.random() < p[i]:
                break
    return x, t_x
