"""The three purchase ("buy till you die") models behind one interface, and the
choice between them by held-out log-likelihood.

Each module (bgnbd, mbgnbd, paretonbd) has fit, log_likelihood, p_alive and
expected_purchases over (x, t_x, T). :func:`holdout_log_likelihood` scores a
model fitted on a calibration snapshot on what happened after it: the
log-likelihood of the customers' purchases up to the later date minus that of
their purchases up to the calibration date, both under the calibration fit,
is the log predictive density of the purchase times in between (the ratio of
two marginal likelihoods of one customer is the conditional one). The three
models are densities of the same purchase times, so the sums compare.

Fits are bounded: on more than ``MAX_FIT_CUSTOMERS`` customers, the parameters
(and the held-out choice) come from a seeded random sample of that many
(four parameters of a population distribution; at 100,000 customers their
sampling error is far below the differences between snapshots), and every
customer is then scored with them.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from microseg.propensity import bgnbd, mbgnbd, paretonbd

MODELS: dict[str, ModuleType] = {"bgnbd": bgnbd, "mbgnbd": mbgnbd, "pareto_nbd": paretonbd}
PARAMS = {"bgnbd": bgnbd.BGNBDParams, "mbgnbd": mbgnbd.MBGNBDParams, "pareto_nbd": paretonbd.ParetoNBDParams}
FitError = bgnbd.BGNBDFitError  # the other two modules' errors derive from it
MAX_FIT_CUSTOMERS = 100_000
SAMPLE_SEED = 42


def fit_sample(n: int, max_customers: int = MAX_FIT_CUSTOMERS) -> np.ndarray | slice:
    """The rows a fit uses: all of them up to ``max_customers``, else a seeded random sample of that many
    (sorted, so the result does not depend on the sample's order)."""
    if n <= max_customers:
        return slice(None)
    return np.sort(np.random.default_rng(SAMPLE_SEED).choice(n, size=max_customers, replace=False))


def module(name: str) -> ModuleType:
    if name not in MODELS:
        raise ValueError(f"unknown purchase model '{name}': one of {', '.join(MODELS)}")
    return MODELS[name]


def params_from_dict(name: str, values: dict):
    module(name)
    return PARAMS[name](**values)


def name_of(params) -> str:
    """The MODELS name of a fitted parameter set (BGNBDParams -> 'bgnbd', ...)."""
    for name, cls in PARAMS.items():
        if type(params) is cls:
            return name
    raise ValueError(f"not a purchase model's parameters: {params!r}")


def fit(name: str, x, t_x, T, *, max_customers: int = MAX_FIT_CUSTOMERS, init=None):
    """Maximum-likelihood parameters of model ``name`` on (x, t_x, T), on at most ``max_customers`` of them
    (:func:`fit_sample`); ``init``: a start (e.g. the same model's fit on a neighbouring snapshot)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    rows = fit_sample(x.size, max_customers)
    return module(name).fit(x[rows], t_x[rows], T[rows], init=init)


def p_alive(name: str, params, x, t_x, T) -> np.ndarray:
    return module(name).p_alive(params, x, t_x, T)


def expected_purchases(name: str, params, t: float, x, t_x, T, alive=None) -> np.ndarray:
    """``alive``: the model's p_alive of these customers when already computed (it does not depend on t)."""
    return module(name).expected_purchases(params, t, x, t_x, T, alive=alive)


def holdout_log_likelihood(name: str, params, calibration: tuple, full: tuple) -> float:
    """Mean per customer of log L(full) - log L(calibration) under ``params`` (fitted on ``calibration``).

    ``calibration`` and ``full`` are (x, t_x, T) of the same customers, in the same order, as of the
    calibration date and as of a later date (same first purchase, so T grows by the holdout length).
    """
    mod = module(name)
    ll = mod.log_likelihood(params, *full) - mod.log_likelihood(params, *calibration)
    return float(np.mean(ll))


def choose(calibration: tuple, full: tuple, names: tuple[str, ...] = tuple(MODELS), *,
           max_customers: int = MAX_FIT_CUSTOMERS) -> tuple[str, dict]:
    """Fit every model in ``names`` on ``calibration`` and keep the one with the highest held-out
    log-likelihood on ``full`` (both on the same sample of at most ``max_customers`` customers).
    Returns (name, {name: {"params": {...}, "holdout_log_likelihood": ...,
    "calibration_log_likelihood": ...}}); a model that cannot be fitted is recorded with its error and skipped.
    Raises FitError when none can be fitted.
    """
    rows = fit_sample(len(calibration[0]), max_customers)
    calibration = tuple(np.asarray(v, dtype=float)[rows] for v in calibration)
    full = tuple(np.asarray(v, dtype=float)[rows] for v in full)
    report = {}
    for name in names:
        try:
            params = fit(name, *calibration, max_customers=max_customers)
        except FitError as exc:
            report[name] = {"error": str(exc)}
            continue
        report[name] = {
            "params": params.as_dict(),
            "calibration_log_likelihood": float(np.mean(module(name).log_likelihood(params, *calibration))),
            "holdout_log_likelihood": holdout_log_likelihood(name, params, calibration, full),
        }
    scored = {n: r["holdout_log_likelihood"] for n, r in report.items()
              if "holdout_log_likelihood" in r and np.isfinite(r["holdout_log_likelihood"])}
    if not scored:
        raise FitError("no purchase model could be fitted: " + "; ".join(f"{n}: {r.get('error')}"
                                                                          for n, r in report.items()))
    # ties (identical fits) keep the earlier, simpler model in MODELS order
    best = max(scored, key=lambda n: (scored[n], -list(MODELS).index(n)))
    return best, report
