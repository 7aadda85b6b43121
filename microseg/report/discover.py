"""Column guessing for tables this report does not own (segment migration, drift, experiment readouts):
their builders may name columns differently, so sections look for a column by regular expression
and fall back to showing the rows when they cannot tell what to plot."""

from __future__ import annotations

import re

import pandas as pd


def pick(columns: list[str], *patterns: str, exclude: tuple[str, ...] = ()) -> str | None:
    """First column matching a pattern (patterns tried in order), skipping any ``exclude`` column."""
    for pattern in patterns:
        regex = re.compile(pattern)
        for column in columns:
            if column not in exclude and regex.search(column):
                return column
    return None


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]


def _is_temporal(series: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(series):
        return True
    sample = series.dropna()
    return series.dtype == object and not sample.empty and hasattr(sample.iloc[0], "isoformat")  # datetime.date


def time_column(frame: pd.DataFrame) -> str | None:
    """A date or timestamp column to order runs by: the run's own time before the data's as-of date."""
    temporal = [c for c in frame.columns if _is_temporal(frame[c])]
    return pick(temporal, r"run", r"as_of", r"(_at|_date)$", r"date|time")


def latest(frame: pd.DataFrame, column: str | None) -> pd.DataFrame:
    """Rows of the newest value of ``column`` (all rows when there is no such column)."""
    if column is None or frame.empty:
        return frame
    return frame[frame[column] == frame[column].max()]
