"""Chunked output: one Parquet (or CSV) file per raw source, Parquet truth files.

Parquet files are written with ``pyarrow.parquet.ParquetWriter``, one row group
per chunk and zstd compression; CSV files get a header and every non-null
value quoted (nulls are empty fields).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..contract import raw_columns
from .campaigns import RECIPIENT_SCHEMA

#: the raw contract (models/sources.yml): every raw table and its columns, in file order
RAW_COLUMNS: dict[str, tuple[str, ...]] = raw_columns()
#: columns with (almost) unique values: no dictionary encoding attempt
HIGH_CARDINALITY = {
    "crm_id",
    "email",
    "phone",
    "signup_at",
    "consent_updated_at",
    "updated_at",
    "first_name",
    "last_name",
    "birth_date",
    "order_id",
    "customer_ref",
    "ordered_at",
    "order_line_id",
    "event_id",
    "event_at",
    "received_at",
    "anonymous_id",
    "user_id",
    "session_id",
    "request_id",
    "identifier_value",
    "requested_at",
    "provided_at",
}
TRUTH_SCHEMAS: dict[str, pa.Schema] = {
    "persons": pa.schema(
        [
            ("person_id", pa.int64()),
            ("persona", pa.string()),
            ("purchase_rate_per_year", pa.float64()),
            ("dropout_prob", pa.float64()),
            ("is_active_at_end", pa.bool_()),
            ("signup_at", pa.timestamp("us", tz="UTC")),
            ("has_crm_record", pa.bool_()),
        ]
    ),
    "identity": pa.schema([("source", pa.string()), ("source_id", pa.string()), ("person_id", pa.int64())]),
    "future_orders": pa.schema(
        [("person_id", pa.int64()), ("ordered_at", pa.timestamp("us", tz="UTC")), ("amount_eur", pa.float64())]
    ),
}
TRUTH_SCHEMAS["campaign_recipients"] = RECIPIENT_SCHEMA
COMPRESSION = "zstd"


def raw_schema(name: str) -> pa.Schema:
    return pa.schema([(c, pa.string()) for c in RAW_COLUMNS[name]])


class OutputWriter:
    """Streams chunk tables into DIR/raw/<name>.<fmt> and DIR/truth/<name>.parquet."""

    def __init__(self, out: Path, fmt: str) -> None:
        if fmt not in ("parquet", "csv"):
            raise ValueError(f"unknown format {fmt!r}")
        self.raw_dir, self.truth_dir = out / "raw", out / "truth"
        self.raw_dir.mkdir(parents=True, exist_ok=True)
        self.truth_dir.mkdir(parents=True, exist_ok=True)
        self.fmt = fmt
        self.rows: dict[str, int] = {name: 0 for name in RAW_COLUMNS}
        self._raw = {name: self._open_raw(name) for name in RAW_COLUMNS}
        self._truth = {
            name: pq.ParquetWriter(self.truth_dir / f"{name}.parquet", schema, compression=COMPRESSION)
            for name, schema in TRUTH_SCHEMAS.items()
        }

    def _open_raw(self, name: str):
        schema = raw_schema(name)
        path = self.raw_dir / f"{name}.{self.fmt}"
        if self.fmt == "csv":
            opts = pacsv.WriteOptions(include_header=True, quoting_style="all_valid")
            return pacsv.CSVWriter(path, schema, write_options=opts)
        dict_cols = [c for c in RAW_COLUMNS[name] if c not in HIGH_CARDINALITY]
        return pq.ParquetWriter(path, schema, compression=COMPRESSION, use_dictionary=dict_cols)

    def write_chunk(self, raw: dict[str, pa.Table], truth: dict[str, pa.Table]) -> None:
        """Write one chunk: every raw table with the contract columns as text."""
        for name, table in raw.items():
            schema = raw_schema(name)
            table = table.select(list(schema.names)).cast(schema)
            if table.num_rows:
                self._raw[name].write_table(table)
            self.rows[name] += table.num_rows
        for name, table in truth.items():
            table = table.select(TRUTH_SCHEMAS[name].names).cast(TRUTH_SCHEMAS[name])
            if table.num_rows:
                self._truth[name].write_table(table)

    def close(self) -> None:
        for w in list(self._raw.values()) + list(self._truth.values()):
            w.close()
