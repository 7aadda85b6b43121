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
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from microseg.propensity import bgnbd, mbgnbd, paretonbd

MODELS: dict[str, ModuleType] = {"bgnbd": bgnbd, "mbgnbd": mbgnbd, "pareto_nbd": paretonbd}
PARAMS = {"bgnbd": bgnbd.BGNBDParams, "mbgnbd": mbgnbd.MBGNBDParams, "pareto_nbd": paretonbd.ParetoNBDParams}
FitError = bgnbd.BGNBDFitError  # the other two modules' errors derive from it


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


def fit(name: str, x, t_x, T):
    return module(name).fit(x, t_x, T)


def p_alive(name: str, params, x, t_x, T) -> np.ndarray:
    return module(name).p_alive(params, x, t_x, T)


def expected_purchases(name: str, params, t: float, x, t_x, T) -> np.ndarray:
    return module(name).expected_purchases(params, t, x, t_x, T)


def holdout_log_likelihood(name: str, params, calibration: tuple, full: tuple) -> float:
    """Mean per customer of log L(full) - log L(calibration) under ``params`` (fitted on ``calibration``).

    ``calibration`` and ``full`` are (x, t_x, T) of the same customers, in the same order, as of the
    calibration date and as of a later date (same first purchase, so T grows by the holdout length).
    """
    mod = module(name)
    ll = mod.log_likelihood(params, *full) - mod.log_likelihood(params, *calibration)
    return float(np.mean(ll))


def choose(calibration: tuple, full: tuple, names: tuple[str, ...] = tuple(MODELS)) -> tuple[str, dict]:
    """Fit every model in ``names`` on ``calibration`` and keep the one with the highest held-out
    log-likelihood on ``full``. Returns (name, {name: {"params": {...}, "holdout_log_likelihood": ...,
    "calibration_log_likelihood": ...}}); a model that cannot be fitted is recorded with its error and skipped.
    Raises FitError when none can be fitted.
    """
    report = {}
    for name in names:
        try:
            params = fit(name, *calibration)
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
