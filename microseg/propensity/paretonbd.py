"""Pareto/NBD (Schmittlein, Morrison and Colombo 1987), as derived in Fader and
Hardie's note "A note on deriving the Pareto/NBD model and related expressions"
(2005).

While alive a customer buys as a Poisson process with rate lambda ~ Gamma(r,
alpha); the lifetime is exponential with rate mu ~ Gamma(s, beta), so a
customer can drop out at any time, not only just after a purchase (BG/NBD).
Input per customer as in :mod:`microseg.propensity.bgnbd`: x repeat
purchases, t_x the time of the last and T the age, both from the first
purchase, in one time unit (weeks in this project).

Maximum likelihood with scipy (L-BFGS-B on log-parameters, vectorised
log-likelihood). No dependency on the lifetimes package.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import digamma, gammaln, hyp2f1

from microseg.propensity.bgnbd import BGNBDFitError, _check, distinct_rows, negative_weighted_fit, unique_rows


class ParetoNBDFitError(BGNBDFitError):
    """The Pareto/NBD model cannot be fitted on the given data."""


@dataclass(frozen=True)
class ParetoNBDParams:
    r: float
    alpha: float
    s: float
    beta: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _hyp2f1_by_pair(a_of_x, b_of_x, c_of_x, z_of_t, pairs) -> np.ndarray:
    """hyp2f1(a(x), b(x), c(x), z(t)) for each row, evaluated once per distinct (x, t) pair.

    In A_0 the hypergeometric terms depend on a customer only through (x, t_x) and (x, T); the distinct pairs
    are bounded by (largest x) x (distinct ages), however many customers there are, and hyp2f1 is the costly
    part of the likelihood."""
    (ux, ut), inverse = pairs
    return hyp2f1(a_of_x(ux), b_of_x(ux), c_of_x(ux), z_of_t(ut))[inverse]


def _distinct_pairs(x, t):
    (ux, ut), _, inverse = distinct_rows(x, t)
    return (ux, ut), inverse


def _log_a0(params: ParetoNBDParams, x, t_x, T, pairs=None) -> np.ndarray:
    """log A_0 of the note (equation 19 / 20, by whether alpha >= beta), as a log-difference of two terms so the
    hypergeometric functions are only ever evaluated with |z| < 1. ``pairs``: the distinct (x, t_x) and (x, T)
    pairs (:func:`_distinct_pairs`), computed here when not given (fit() computes them once)."""
    if pairs is None:
        pairs = (_distinct_pairs(x, t_x), _distinct_pairs(x, T))
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    if alpha >= beta:
        big, small = alpha, beta

        def b_of_x(v):
            return np.full_like(v, s + 1.0)
    else:
        big, small = beta, alpha

        def b_of_x(v):
            return r + v
    rsx = r + s + x
    q1 = big + t_x
    q2 = big + T

    def a_of_x(v):
        return r + s + v

    def c_of_x(v):
        return r + s + v + 1.0

    def z_of_t(v):
        return (big - small) / (big + v)

    f1 = _hyp2f1_by_pair(a_of_x, b_of_x, c_of_x, z_of_t, pairs[0])
    f2 = _hyp2f1_by_pair(a_of_x, b_of_x, c_of_x, z_of_t, pairs[1])
    # A_0 = f1 / q1^rsx - f2 / q2^rsx = (f1 q2^rsx - f2 q1^rsx) / (q1 q2)^rsx, positive when t_x < T
    log_terms = np.stack([np.log(f1) + rsx * np.log(q2), np.log(f2) + rsx * np.log(q1)])
    with np.errstate(divide="ignore", invalid="ignore"):
        hi = log_terms.max(axis=0)
        diff = np.log(np.clip(np.exp(log_terms[0] - hi) - np.exp(log_terms[1] - hi), 0.0, None)) + hi
    return diff - rsx * np.log(q1 * q2)


def _log_alive_term(params: ParetoNBDParams, x, T) -> np.ndarray:
    """log of the likelihood's 'still alive at T' part: Gamma(r+x) a^r b^s / (Gamma(r) (a+T)^(r+x) (b+T)^s)."""
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    return (gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
            - (r + x) * np.log(alpha + T) - s * np.log(beta + T))


def log_likelihood(params: ParetoNBDParams, x, t_x, T, pairs=None) -> np.ndarray:
    """Per-customer log-likelihood (Fader and Hardie 2005 note, equation 18)."""
    x, t_x, T = _check(x, t_x, T)
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    # far from the optimum (during the search) A_0 can come out nan; fit() treats that as a failed step
    with np.errstate(invalid="ignore"):
        dead = np.log(s) - np.log(r + s + x) + _log_a0(params, x, t_x, T, pairs)
        return head + np.logaddexp(alive, dead)


#: forward-difference step (relative to 1 + a) of hyp2f1's derivatives by its parameters, the one part of the
#: Pareto/NBD gradient without a closed form
HYP2F1_STEP = 1e-7


def _log_hyp2f1_and_slopes(m, b, z, b_moves_with_x: bool):
    """log F, F = hyp2f1(m, b; m + 1; z), per distinct pair and its derivatives: by z (closed form for c = a + 1:
    z F' = m ((1 - z)^-b - F)), by r and by s (r and s both move m; one of them also moves b: s when
    alpha >= beta (b = s + 1), r when alpha < beta (b = r + x)), the last two by one forward step each."""
    f = hyp2f1(m, b, m + 1.0, z)
    h = HYP2F1_STEP * (1.0 + m)
    along_m = (hyp2f1(m + h, b, m + 1.0 + h, z) / f - 1.0) / h
    along_mb = (hyp2f1(m + h, b + h, m + 1.0 + h, z) / f - 1.0) / h
    with np.errstate(divide="ignore", invalid="ignore"):
        by_z = np.where(z != 0.0, m / z * np.expm1(-b * np.log1p(-z) - np.log(f)), m * b / (m + 1.0))
    by_r, by_s = (along_mb, along_m) if b_moves_with_x else (along_m, along_mb)
    return np.log(f), by_z, by_r, by_s


def log_likelihood_and_gradient(params: ParetoNBDParams, x, t_x, T, pairs) -> tuple[np.ndarray, list[np.ndarray]]:
    """:func:`log_likelihood` and its derivatives by log r, log alpha, log s, log beta (one array per parameter),
    ``pairs`` as in :func:`_log_a0`. Everything is analytic except hyp2f1's derivatives by its parameters
    (:func:`_log_hyp2f1_and_slopes`): three hyp2f1 calls per step, where a numerical gradient made five full
    likelihood evaluations."""
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    alpha_big = alpha >= beta
    big, small = (alpha, beta) if alpha_big else (beta, alpha)
    m = r + s + x
    log_q, log_f, d_log_f = [], [], []
    for t, ((ux, ut), inverse) in zip((t_x, T), pairs):
        z = (big - small) / (big + ut)
        um = r + s + ux
        log_fu, by_z, by_r, by_s = _log_hyp2f1_and_slopes(um, np.full_like(ux, s + 1.0) if alpha_big else r + ux,
                                                          z, not alpha_big)
        q = big + t
        dz_dbig, dz_dsmall = ((ut + small) / (big + ut) ** 2)[inverse], (-1.0 / (big + ut))[inverse]
        by_z = by_z[inverse]
        # d log(f / q^m) by r, alpha, s, beta
        d_big = by_z * dz_dbig - m / q
        d_small = by_z * dz_dsmall
        log_q.append(np.log(q))
        log_f.append(log_fu[inverse])
        d_log_f.append([by_r[inverse] - log_q[-1], d_big if alpha_big else d_small,
                        by_s[inverse] - log_q[-1], d_small if alpha_big else d_big])
    # log A_0 = log(f1 / q1^m - f2 / q2^m) as in _log_a0
    term1, term2 = log_f[0] - m * log_q[0], log_f[1] - m * log_q[1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_a0 = np.log(np.clip(-np.expm1(term2 - term1), 0.0, None)) + term1
        share1, share2 = np.exp(term1 - log_a0), np.exp(term2 - log_a0)
        d_log_a0 = [share1 * g1 - share2 * g2 for g1, g2 in zip(*d_log_f)]
        log_alpha_T, log_beta_T = np.log(alpha + T), np.log(beta + T)
        head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        alive = -(r + x) * log_alpha_T - s * log_beta_T
        dead = np.log(s) - np.log(m) + log_a0
        total = np.logaddexp(alive, dead)
        w_alive, w_dead = np.exp(alive - total), np.exp(dead - total)
        d_head = [digamma(r + x) - digamma(r) + np.log(alpha), r / alpha, np.log(beta), s / beta]
        d_alive = [-log_alpha_T, -(r + x) / (alpha + T), -log_beta_T, -s / (beta + T)]
        d_dead = [d_log_a0[0] - 1.0 / m, d_log_a0[1], 1.0 / s - 1.0 / m + d_log_a0[2], d_log_a0[3]]
        grad = [value * (dh + w_alive * da + np.where(w_dead > 0, w_dead * dd, 0.0))
                for value, dh, da, dd in zip((r, alpha, s, beta), d_head, d_alive, d_dead)]
    return head + total, grad


def fit(x, t_x, T, *, init: ParetoNBDParams | None = None) -> ParetoNBDParams:
    """Maximum-likelihood Pareto/NBD parameters; ParetoNBDFitError when there is nothing to learn from."""
    x, t_x, T = _check(x, t_x, T)
    if x.size == 0:
        raise ParetoNBDFitError("Pareto/NBD needs at least one customer")
    if not np.any(x > 0):
        raise ParetoNBDFitError("Pareto/NBD needs at least one repeat purchase to estimate the purchase rate")
    scale = max(float(T.mean()), 1.0)
    start = np.log(list((init or ParetoNBDParams(1.0, scale, 1.0, scale)).as_dict().values()))
    (x, t_x, T), weight = unique_rows(x, t_x, T)
    weight /= weight.sum()
    pairs = (_distinct_pairs(x, t_x), _distinct_pairs(x, T))

    def objective(log_params):
        ll, grad = log_likelihood_and_gradient(ParetoNBDParams(*np.exp(log_params)), x, t_x, T, pairs)
        if not (np.all(np.isfinite(ll)) and all(np.all(np.isfinite(g)) for g in grad)):
            return 1e10, np.zeros(4)
        return negative_weighted_fit(ll, grad, weight)

    # bounds e^-10 .. e^10 as in bgnbd.fit: with no visible drop-out s and beta run off together
    result = minimize(objective, np.clip(start, -9, 9), method="L-BFGS-B", jac=True, bounds=[(-10.0, 10.0)] * 4,
                      options={"maxiter": 500})
    if not np.isfinite(result.fun) or result.fun >= 1e10:
        raise ParetoNBDFitError(f"Pareto/NBD fit did not converge: {result.message}")
    return ParetoNBDParams(*(float(v) for v in np.exp(result.x)))


def p_alive(params: ParetoNBDParams, x, t_x, T) -> np.ndarray:
    """P(still alive at T | x, t_x, T): the alive part of the likelihood over the whole (note, equation 21)."""
    x, t_x, T = _check(x, t_x, T)
    # a ratio of two terms of the same sum: rounding lifts it above 1 (1 + 1e-14) when the alive term is all of it
    return np.minimum(1.0, np.exp(_log_alive_term(params, x, T) - log_likelihood(params, x, t_x, T)))


def expected_purchases(params: ParetoNBDParams, t: float, x, t_x, T, alive=None) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T] (note, equation 22):
    P(alive) (r + x)(beta + T) / ((alpha + T)(s - 1)) [1 - ((beta + T) / (beta + T + t))^(s - 1)].
    ``alive``: p_alive(params, x, t_x, T) when already computed (it does not depend on t)."""
    x, t_x, T = _check(x, t_x, T)
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    log_ratio = np.log((beta + T) / (beta + T + t))
    # [1 - ratio^(s-1)] / (s-1), with its limit -log(ratio) at s = 1
    if abs(s - 1.0) < 1e-8:
        horizon_term = -log_ratio
    else:
        horizon_term = -np.expm1((s - 1.0) * log_ratio) / (s - 1.0)
    alive = p_alive(params, x, t_x, T) if alive is None else alive
    return alive * (r + x) * (beta + T) / (alpha + T) * horizon_term


def simulate(params: ParetoNBDParams, T, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw (x, t_x) for customers of ages T from the Pareto/NBD process (for tests)."""
    T = np.asarray(T, dtype=float)
    lam = rng.gamma(params.r, 1.0 / params.alpha, size=T.size)
    mu = rng.gamma(params.s, 1.0 / params.beta, size=T.size)
    end = np.minimum(rng.exponential(1.0 / mu), T)
    x = rng.poisson(lam * end).astype(float)
    # given the count, Poisson purchase times are uniform on (0, end]: the last is the max of x uniforms
    t_x = np.where(x > 0, end * rng.random(T.size) ** (1.0 / np.maximum(x, 1.0)), 0.0)
    return x, t_x
