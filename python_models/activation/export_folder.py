"""The folder the export files are written to (export_settings), created when
missing: every external export model depends on this model, so the folder
exists before DuckDB's COPY writes into it (microseg.activation.exports)."""

from microseg.activation.exports import ensure_export_folder


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt.ref("export_settings").df()
    return ensure_export_folder(settings["export_path"].iloc[0])
