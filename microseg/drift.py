"""Drift between consecutive segmentation runs: population stability index
(PSI) per clustering feature and for the segment mix, and the
re-segmentation alerts that say why a run deserves attention.

A *run* is one segmentation fit (a row of ``ml.segment_model``; every
``dbt build`` fits once). Runs are ordered by ``fitted_at``; each run is
compared with the run before it.

PSI of a current distribution ``a`` against a reference ``e`` (shares per bin,
each summing to 1) is ``sum((a_i - e_i) * ln(a_i / e_i))``; a share of 0 is
floored at :data:`PSI_FLOOR` so a bin that empties or appears counts as a
large but finite shift. Feature bins are the reference run's quantiles
(``bins`` equal-count bins, ties merged, no edge on an atom, no bin under half
an equal share: :func:`quantile_edges`) plus one bin for missing values, so
each run stores its own bin edges (:func:`distribution_rows`) and the next run
bins its values on them: PSI never needs the raw values of an earlier run.
Usual reading: below 0.1 stable, 0.1-0.25 moderate shift (warn), above 0.25
major shift (error); the thresholds are vars.

Every function takes and returns DataFrames; nothing reads global state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

#: share given to an empty bin inside the PSI (ln(0) is undefined)
PSI_FLOOR = 1e-4
#: bin number of missing values
MISSING_BIN = -1

DISTRIBUTION_COLUMNS = ["fit_id", "fitted_at", "as_of_date", "feature", "basis", "reference_fit_id", "bin",
                        "lower_edge", "upper_edge", "customer_count", "customer_share"]
#: types of segment_feature_distributions (incremental: a first run whose
#: reference_fit_id is all null must not fix that column's type as integer)
DISTRIBUTION_SCHEMA = pa.schema([
    ("fit_id", pa.string()), ("fitted_at", pa.timestamp("us")), ("as_of_date", pa.date32()),
    ("feature", pa.string()), ("basis", pa.string()), ("reference_fit_id", pa.string()), ("bin", pa.int64()),
    ("lower_edge", pa.float64()), ("upper_edge", pa.float64()), ("customer_count", pa.int64()),
    ("customer_share", pa.float64()),
])
DRIFT_COLUMNS = ["fit_id", "fitted_at", "as_of_date", "previous_fit_id", "previous_as_of_date", "drift_kind",
                 "subject", "psi", "previous_share", "current_share", "status", "is_latest"]
ALERT_COLUMNS = ["fit_id", "as_of_date", "previous_fit_id", "previous_as_of_date", "reason", "subject", "severity",
                 "metric_value", "threshold", "message", "is_latest"]


@dataclass(frozen=True)
class DriftConfig:
    """Thresholds of the drift checks (dbt vars ``microseg__drift_*`` and
    ``microseg__segment_*``; no Python default, like SegmentationConfig)."""

    bins: int
    psi_warn: float
    psi_error: float
    # relative change of a segment's share (|current / previous - 1|) that raises an alert
    size_change: float
    stability_floor: float
    # a niche is new when at most this share of its customers were in a niche in the previous run
    new_niche_max_overlap: float
    # niches smaller than this are ignored by the new-niche check
    min_niche_size: int

    def __post_init__(self) -> None:
        if not 0 < self.psi_warn < self.psi_error:
            raise ValueError(f"need 0 < microseg__drift_psi_warn < microseg__drift_psi_error, "
                             f"got {self.psi_warn}, {self.psi_error}")
        if self.bins < 2:
            raise ValueError(f"microseg__drift_bins must be >= 2, got {self.bins}")

    def status(self, psi: float) -> str:
        """ok, warn or error for a PSI value."""
        return "error" if psi >= self.psi_error else "warn" if psi >= self.psi_warn else "ok"


#: dbt var -> DriftConfig field (= key of the `drift` config dict)
VARS = {
    "microseg__drift_bins": "bins",
    "microseg__drift_psi_warn": "psi_warn",
    "microseg__drift_psi_error": "psi_error",
    "microseg__drift_segment_size_change": "size_change",
    "microseg__segment_stability_floor": "stability_floor",
    "microseg__drift_new_niche_max_overlap": "new_niche_max_overlap",
    "microseg__segment_min_size": "min_niche_size",
}


def config_from_dbt(settings: dict | None) -> DriftConfig:
    """DriftConfig from the models' `drift` config dict (values arrive as text);
    a missing key is an error naming its var."""
    if not settings:
        raise ValueError("The drift Python models need their `drift` config (python_models/_segment_history__models.yml).")
    values = {}
    for var, name in VARS.items():
        value = settings.get(name)
        if value in (None, "", "None"):
            raise ValueError(f"drift config key {name!r} (var {var}) is missing or null")
        values[name] = int(float(value)) if name in ("bins", "min_niche_size") else float(value)
    return DriftConfig(**values)


# ---------------------------------------------------------------------------
# PSI
# ---------------------------------------------------------------------------


def psi_terms(expected, actual, floor: float = PSI_FLOOR) -> np.ndarray:
    """Per-bin PSI terms (a - e) * ln(a / e) of two share vectors (zeros floored)."""
    e = np.maximum(np.asarray(expected, dtype=float), floor)
    a = np.maximum(np.asarray(actual, dtype=float), floor)
    return (a - e) * np.log(a / e)


def psi(expected, actual, floor: float = PSI_FLOOR) -> float:
    """Population stability index of ``actual`` shares against ``expected`` shares (same bins)."""
    return float(psi_terms(expected, actual, floor).sum())


#: a value held by at least this share of customers is an atom (no bin edge near it)
ATOM_SHARE = 0.02
#: how near an edge may come to an atom, as a share of the feature's 10-90 % range
ATOM_TOLERANCE = 0.05
#: a value bin holds at least this share of an equal-count bin (1 / bins) of the reference;
#: smaller bins merge with their smaller neighbour
MIN_BIN_SHARE = 0.5


def quantile_edges(values: np.ndarray, bins: int) -> np.ndarray:
    """Interior edges of at most ``bins`` value bins of the non-missing ``values``:
    equal-count (quantile) edges, made safe for tied and lattice-valued features.

    - Atoms (a value held by at least ``ATOM_SHARE`` of the customers) keep
      every edge at least ``ATOM_TOLERANCE`` x the 10-90 % range away: a
      quantile edge near an atom is dropped, and an edge goes midway between
      two neighbouring atoms instead. A smoothed share puts the customers
      without trials at exactly the base share and the customers with few
      trials on a lattice, (hits + w x base) / (trials + w); base and lattice
      move a little with every run (the email campaigns in the 90-day window
      went from 11 to 13 between two as-of dates of the CI data), and an atom
      on an edge would send its whole mass to the next bin.
    - A bin holding less than ``MIN_BIN_SHARE / bins`` of the reference merges
      with its smaller neighbour, so no expected share is near zero (PSI
      divides by it: an atom moving into an all but empty gap between two
      atom bins gave PSI 3.4 for email_click_rate_smoothed)."""
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return np.zeros(0)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))
    distinct, counts = np.unique(values, return_counts=True)
    atoms = distinct[counts >= ATOM_SHARE * len(values)]
    if len(atoms):
        q10, q90 = np.quantile(values, [0.1, 0.9])
        spread = q90 - q10 if q90 > q10 else (values.max() - values.min()) or 1.0
        tolerance = ATOM_TOLERANCE * spread
        away = np.array([not np.any(np.abs(e - atoms) < tolerance) for e in edges], dtype=bool)
        gaps = np.diff(atoms) >= 2 * tolerance
        between = ((atoms[:-1] + atoms[1:]) / 2)[gaps]
        edges = np.unique(np.concatenate([edges[away], between]))
    return merge_small_bins(values, edges, MIN_BIN_SHARE / bins)


def merge_small_bins(values: np.ndarray, edges: np.ndarray, min_share: float) -> np.ndarray:
    """``edges`` without the edges of value bins holding less than ``min_share`` of
    the non-missing ``values``: the smallest bin merges with its smaller neighbour
    until every bin holds enough (or one bin is left)."""
    values = values[~np.isnan(values)]
    edges = np.asarray(edges, dtype=float)
    counts = bin_counts(values, edges)[:-1].astype(float)
    while len(edges) and counts.min() < min_share * len(values):
        i = int(np.argmin(counts))
        # the edge between bin i and its smaller neighbour (the only one at either end)
        left = i == len(counts) - 1 or (i > 0 and counts[i - 1] <= counts[i + 1])
        edge = i - 1 if left else i
        counts[edge] += counts[edge + 1]
        counts = np.delete(counts, edge + 1)
        edges = np.delete(edges, edge)
    return edges


def bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin: value bins 0..len(edges) (bin i holds edges[i-1] < x <= edges[i]),
    then the missing bin last."""
    is_missing = np.isnan(values)
    idx = np.searchsorted(edges, values[~is_missing], side="left")
    counts = np.bincount(idx, minlength=len(edges) + 1)
    return np.append(counts, is_missing.sum())


def _bin_frame(values: np.ndarray, edges: np.ndarray) -> pd.DataFrame:
    counts = bin_counts(values, edges)
    lower = np.concatenate([[np.nan], edges, [np.nan]])
    upper = np.concatenate([edges, [np.nan], [np.nan]])
    total = max(len(values), 1)
    return pd.DataFrame({"bin": list(range(len(edges) + 1)) + [MISSING_BIN], "lower_edge": lower,
                         "upper_edge": upper, "customer_count": counts, "customer_share": counts / total})


def edges_from_rows(rows: pd.DataFrame) -> np.ndarray:
    """Interior edges of a stored distribution (the upper edges of its value bins)."""
    value_bins = rows[rows["bin"] != MISSING_BIN].sort_values("bin")
    return value_bins["upper_edge"].dropna().to_numpy(float)


def distribution_rows(features: pd.DataFrame, columns: list[str], fit: pd.Series, previous: pd.DataFrame | None,
                      bins: int) -> pd.DataFrame:
    """segment_feature_distributions rows of one run.

    basis ``own``: each clustering feature binned on this run's quantile edges
    (what the next run compares against); basis ``previous``: binned on the
    previous run's stored edges (``previous``: that run's ``own`` rows), so
    :func:`feature_drift` compares the two on the same bins.
    """
    parts = []
    for feature in columns:
        values = pd.to_numeric(features[feature], errors="coerce").to_numpy(float)
        parts.append(_bin_frame(values, quantile_edges(values, bins)).assign(feature=feature, basis="own",
                                                                              reference_fit_id=None))
        if previous is not None and len(previous):
            reference = previous[previous["feature"] == feature]
            if len(reference):
                parts.append(_bin_frame(values, edges_from_rows(reference)).assign(
                    feature=feature, basis="previous", reference_fit_id=reference["fit_id"].iloc[0]))
    out = pd.concat(parts, ignore_index=True)
    out["fit_id"] = fit["fit_id"]
    out["fitted_at"] = pd.Timestamp(fit["fitted_at"])
    out["as_of_date"] = pd.Timestamp(fit["as_of_date"]).date()
    return out.astype({"bin": "int64", "customer_count": "int64", "reference_fit_id": "object"})[DISTRIBUTION_COLUMNS]


def previous_run(runs: pd.DataFrame, fit_id: str) -> pd.Series | None:
    """The run before ``fit_id`` in ``runs`` (fit_id, fitted_at, ...), or None."""
    ordered = runs.drop_duplicates("fit_id").sort_values(["fitted_at", "fit_id"]).reset_index(drop=True)
    position = ordered.index[ordered["fit_id"] == fit_id]
    if len(position) == 0 or position[0] == 0:
        return None
    return ordered.iloc[position[0] - 1]


def previous_reference(stored: pd.DataFrame | None, fit: pd.Series) -> pd.DataFrame | None:
    """The ``own`` rows of the latest stored run fitted before ``fit`` (None without one)."""
    if stored is None or stored.empty:
        return None
    earlier = stored[(stored["basis"] == "own") & (pd.to_datetime(stored["fitted_at"]) < pd.Timestamp(fit["fitted_at"]))]
    if earlier.empty:
        return None
    latest = earlier.sort_values(["fitted_at", "fit_id"])["fit_id"].iloc[-1]
    return earlier[earlier["fit_id"] == latest]


# ---------------------------------------------------------------------------
# Drift between consecutive runs
# ---------------------------------------------------------------------------


def feature_drift(distributions: pd.DataFrame, config: DriftConfig) -> pd.DataFrame:
    """One row per run and clustering feature: PSI of the run's values on the
    previous run's bins (basis ``previous``) against the previous run's own shares."""
    current = distributions[distributions["basis"] == "previous"]
    own = distributions[distributions["basis"] == "own"]
    rows = []
    for (fit_id, feature), cur in current.groupby(["fit_id", "feature"], sort=True):
        reference_fit = cur["reference_fit_id"].iloc[0]
        ref = own[(own["fit_id"] == reference_fit) & (own["feature"] == feature)]
        if ref.empty:
            continue
        shares = cur.set_index("bin")["customer_share"].to_frame("current").join(
            ref.set_index("bin")["customer_share"].rename("previous"), how="outer").fillna(0.0)
        value = psi(shares["previous"], shares["current"])
        rows.append({"fit_id": fit_id, "fitted_at": cur["fitted_at"].iloc[0], "as_of_date": cur["as_of_date"].iloc[0],
                     "previous_fit_id": reference_fit, "previous_as_of_date": ref["as_of_date"].iloc[0],
                     "drift_kind": "feature", "subject": feature, "psi": value, "previous_share": np.nan,
                     "current_share": np.nan, "status": config.status(value)})
    return pd.DataFrame(rows)


def segment_drift(sizes: pd.DataFrame, config: DriftConfig) -> pd.DataFrame:
    """Segment mix of each run against the run before it: one ``segment_mix``
    row (PSI over segment shares, a segment present in one run only counting
    with share 0) and one ``segment_share`` row per segment (its PSI term and
    both shares). ``sizes``: fit_id, fitted_at, as_of_date, segment_id, customer_count."""
    runs = sizes[["fit_id", "fitted_at", "as_of_date"]].drop_duplicates("fit_id").sort_values(["fitted_at", "fit_id"])
    runs = runs.reset_index(drop=True)
    rows = []
    for i in range(1, len(runs)):
        prev, cur = runs.iloc[i - 1], runs.iloc[i]
        shares = pd.DataFrame({
            "previous": sizes[sizes["fit_id"] == prev["fit_id"]].set_index("segment_id")["customer_count"],
            "current": sizes[sizes["fit_id"] == cur["fit_id"]].set_index("segment_id")["customer_count"],
        }).fillna(0.0)
        shares = (shares / shares.sum()).sort_index()
        terms = psi_terms(shares["previous"], shares["current"])
        base = {"fit_id": cur["fit_id"], "fitted_at": cur["fitted_at"], "as_of_date": cur["as_of_date"],
                "previous_fit_id": prev["fit_id"], "previous_as_of_date": prev["as_of_date"]}
        total = float(terms.sum())
        rows.append({**base, "drift_kind": "segment_mix", "subject": "all", "psi": total, "previous_share": 1.0,
                     "current_share": 1.0, "status": config.status(total)})
        for segment_id, term, p, c in zip(shares.index, terms, shares["previous"], shares["current"]):
            rows.append({**base, "drift_kind": "segment_share", "subject": str(int(segment_id)), "psi": float(term),
                         "previous_share": float(p), "current_share": float(c), "status": config.status(float(term))})
    return pd.DataFrame(rows)


def drift_table(distributions: pd.DataFrame, sizes: pd.DataFrame, config: DriftConfig) -> pd.DataFrame:
    """segment_drift: feature and segment-mix PSI of every run against the run before it;
    ``is_latest`` marks the rows of the latest run (the ones the dbt tests judge)."""
    parts = [p for p in (feature_drift(distributions, config), segment_drift(sizes, config)) if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _DRIFT_DTYPES.items()})
    out = pd.concat(parts, ignore_index=True)
    latest = sizes.sort_values(["fitted_at", "fit_id"])["fit_id"].iloc[-1] if len(sizes) else None
    out["is_latest"] = out["fit_id"] == latest
    out["fitted_at"] = pd.to_datetime(out["fitted_at"])
    for column in ("as_of_date", "previous_as_of_date"):
        out[column] = pd.to_datetime(out[column]).dt.date
    return out.sort_values(["fitted_at", "drift_kind", "subject"]).astype(
        {"psi": float, "previous_share": float, "current_share": float})[DRIFT_COLUMNS].reset_index(drop=True)


_DRIFT_DTYPES = {"fit_id": "object", "fitted_at": "datetime64[us]", "as_of_date": "datetime64[us]",
                 "previous_fit_id": "object", "previous_as_of_date": "datetime64[us]", "drift_kind": "object",
                 "subject": "object", "psi": "float64", "previous_share": "float64", "current_share": "float64",
                 "status": "object", "is_latest": "bool"}


# ---------------------------------------------------------------------------
# Re-segmentation alerts
# ---------------------------------------------------------------------------


def new_niches(members: pd.DataFrame, runs: pd.DataFrame, config: DriftConfig) -> pd.DataFrame:
    """Niches of each run whose customers were mostly outside any niche in the
    run before: fit_id, niche_id, customers, overlap (share of its customers
    in a niche before). ``members``: fit_id, customer_key, niche_id (niche
    members only); ``runs``: fit_id, fitted_at, as_of_date of every run."""
    rows = []
    ordered = runs.drop_duplicates("fit_id").sort_values(["fitted_at", "fit_id"]).reset_index(drop=True)
    for i in range(1, len(ordered)):
        prev, cur = ordered.iloc[i - 1], ordered.iloc[i]
        before = set(members.loc[members["fit_id"] == prev["fit_id"], "customer_key"])
        now = members[members["fit_id"] == cur["fit_id"]]
        for niche_id, group in now.groupby("niche_id"):
            overlap = float(group["customer_key"].isin(before).mean())
            if len(group) >= config.min_niche_size and overlap <= config.new_niche_max_overlap:
                rows.append({"fit_id": cur["fit_id"], "niche_id": int(niche_id), "customers": len(group),
                             "overlap": overlap})
    return pd.DataFrame(rows, columns=["fit_id", "niche_id", "customers", "overlap"])


def _day(value) -> str:
    """An as-of date as YYYY-MM-DD, whether it arrives as a date, a timestamp or a string."""
    return pd.Timestamp(value).date().isoformat()


def alerts_table(drift: pd.DataFrame, runs: pd.DataFrame, niche_members: pd.DataFrame,
                 config: DriftConfig) -> pd.DataFrame:
    """resegmentation_alerts: one row per reason a run (against the run before
    it) calls for a look at the segmentation, with severity, the figure, the
    threshold and a sentence. Reasons:

    - feature_drift: a clustering feature's PSI >= warn (error from the error threshold);
    - segment_mix_drift: PSI of the segment shares >= warn (always warn: a refit
      that changes k moves the mix by construction);
    - segment_size_change: a segment's share moved by more than ``size_change``
      relative to its previous share (a segment that appears or vanishes: always); warn;
    - stability_below_floor: the run's bootstrap stability (mean ARI) is below the
      floor while the previous run's was not; warn;
    - new_dense_niche: a niche of at least ``min_niche_size`` customers, at most
      ``new_niche_max_overlap`` of whom were in a niche in the previous run; warn.

    ``runs``: fit_id, fitted_at, as_of_date, stability_ari of every run.
    """
    rows = []
    ordered = runs.drop_duplicates("fit_id").sort_values(["fitted_at", "fit_id"]).reset_index(drop=True)
    pairs = {ordered.iloc[i]["fit_id"]: ordered.iloc[i - 1] for i in range(1, len(ordered))}
    fits = ordered.set_index("fit_id")

    def add(fit_id, reason, subject, severity, value, threshold, message):
        prev = pairs[fit_id]
        rows.append({"fit_id": fit_id, "as_of_date": fits.loc[fit_id, "as_of_date"], "previous_fit_id": prev["fit_id"],
                     "previous_as_of_date": prev["as_of_date"], "reason": reason, "subject": subject,
                     "severity": severity, "metric_value": float(value), "threshold": float(threshold),
                     "message": message})

    for r in drift[drift["fit_id"].isin(pairs.keys())].itertuples(index=False):
        if r.drift_kind in ("feature", "segment_mix") and r.status != "ok":
            limit = config.psi_error if r.status == "error" else config.psi_warn
            what = f"feature {r.subject}" if r.drift_kind == "feature" else "segment mix"
            # the segment mix moves by construction when a refit changes k: warn, never error
            severity = r.status if r.drift_kind == "feature" else "warn"
            add(r.fit_id, f"{r.drift_kind}_drift", r.subject, severity, r.psi, limit,
                f"PSI of the {what} is {r.psi:.3f} (>= {limit}) against the run as of {_day(r.previous_as_of_date)}")
        elif r.drift_kind == "segment_share":
            change = abs(r.current_share / r.previous_share - 1) if r.previous_share > 0 else np.inf
            if change > config.size_change:
                verb = ("appeared" if r.previous_share == 0 else "vanished" if r.current_share == 0
                        else f"moved from {r.previous_share:.1%} to {r.current_share:.1%} of customers")
                add(r.fit_id, "segment_size_change", r.subject, "warn", min(change, 1e9), config.size_change,
                    f"segment {r.subject} {verb}")
    for fit_id, prev in pairs.items():
        now, before = fits.loc[fit_id, "stability_ari"], prev["stability_ari"]
        if pd.notna(now) and now < config.stability_floor and not (pd.notna(before) and before < config.stability_floor):
            add(fit_id, "stability_below_floor", "all", "warn", now, config.stability_floor,
                f"bootstrap stability {now:.3f} fell below its floor {config.stability_floor}")
    for n in new_niches(niche_members, ordered, config).itertuples(index=False):
        add(n.fit_id, "new_dense_niche", str(n.niche_id), "warn", n.overlap, config.new_niche_max_overlap,
            f"niche {n.niche_id} ({n.customers} customers) is new: {n.overlap:.0%} of them were in a niche before")
    out = pd.DataFrame(rows, columns=ALERT_COLUMNS[:-1])
    latest = ordered["fit_id"].iloc[-1] if len(ordered) else None
    out["is_latest"] = (out["fit_id"] == latest).astype(bool)
    for column in ("as_of_date", "previous_as_of_date"):
        out[column] = pd.to_datetime(out[column]).dt.date
    return out.astype({"metric_value": float, "threshold": float})[ALERT_COLUMNS].reset_index(drop=True)
