"""The export folder of the activation files (dbt-duckdb external models)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def ensure_export_folder(path: str | None) -> pd.DataFrame:
    """Create the export folder (var microseg__export_path) when missing:
    DuckDB's COPY, which writes the external models' files, does not create
    folders. Returns one row with the folder as given and resolved; a path
    that exists as a file is one clear error naming the var."""
    if not path or not str(path).strip():
        raise ValueError("var microseg__export_path is blank: set the folder the export files go to")
    folder = Path(str(path))
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"var microseg__export_path = {path}: exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    return pd.DataFrame({"export_path": [str(path)], "resolved_path": [str(folder.resolve())]})
