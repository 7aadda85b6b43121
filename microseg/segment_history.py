"""Memory of segments: what the history Python models append per run.

A *run* is one segmentation fit (``ml.segment_model``, one per ``dbt build``).
Each history table is incremental and append-only, keyed by the run's
``fit_id``: a model that runs again without a new fit appends nothing, so a
run is recorded once whatever is re-executed.

- segment_membership_history: customer x run (as_of_date, fit_id = model
  version) x segment, with the customer's net spend at that run (the revenue
  the migration matrix moves);
- segment_feature_distributions: each clustering feature binned per run
  (:func:`microseg.drift.distribution_rows`).
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from microseg.drift import DISTRIBUTION_SCHEMA, distribution_rows, previous_reference
from microseg.segment_run import recipe

#: types of segment_membership_history (fixed: the table is incremental)
MEMBERSHIP_SCHEMA = pa.schema([
    ("fit_id", pa.string()), ("fitted_at", pa.timestamp("us")), ("as_of_date", pa.date32()),
    ("customer_key", pa.string()), ("segment_id", pa.int64()), ("segment_name", pa.string()),
    ("membership_probability", pa.float64()), ("is_core_member", pa.bool_()), ("niche_id", pa.int64()),
    ("monetary_eur", pa.float64()),
])
MEMBERSHIP_COLUMNS = MEMBERSHIP_SCHEMA.names


def to_table(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """``frame`` as an Arrow table of ``schema``: an incremental model's column
    types must not depend on one run's values (a column that is all null)."""
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)


def is_recorded(fit: pd.Series, recorded: pd.DataFrame | None) -> bool:
    """True when the history already holds the run of ``fit``."""
    return recorded is not None and fit["fit_id"] in set(recorded["fit_id"])


def membership_rows(segments: pd.DataFrame, spend: pd.DataFrame, fit: pd.DataFrame,
                    recorded: pd.DataFrame | None) -> pa.Table:
    """segment_membership_history rows of the latest run: customer_segments
    (``segments``) with the run's fit (``fit``: the latest segment_model row)
    and each customer's ``monetary_eur`` (``spend``, mart_customer_features).
    Empty when ``recorded`` (the table's fit_ids so far) holds this run."""
    run = fit.sort_values(["fitted_at", "fit_id"]).iloc[-1]
    if is_recorded(run, recorded):
        segments = segments.iloc[0:0]
    out = segments.merge(spend[["customer_key", "monetary_eur"]], on="customer_key", how="left")
    out = out.assign(fit_id=run["fit_id"], fitted_at=pd.Timestamp(run["fitted_at"]))
    out["as_of_date"] = pd.to_datetime(out["as_of_date"]).dt.date
    return to_table(out.astype({"segment_id": "int64", "niche_id": "Int64", "monetary_eur": float}), MEMBERSHIP_SCHEMA)


def distributions_for_run(features: pd.DataFrame, spec: pd.DataFrame, fit: pd.DataFrame,
                          stored: pd.DataFrame | None, bins: int) -> pa.Table:
    """segment_feature_distributions rows of the latest run: its clustering
    features (seed segment_features) binned on its own quantiles and on the
    previous stored run's bins. Empty when ``stored`` holds this run."""
    run = fit.sort_values(["fitted_at", "fit_id"]).iloc[-1]
    columns, _ = recipe(spec, list(features.columns))
    out = distribution_rows(features, columns, run, previous_reference(stored, run), bins)
    return to_table(out.iloc[0:0] if is_recorded(run, stored) else out, DISTRIBUTION_SCHEMA)
