"""Salted PII hashes exactly as the staging layer computes them (macros/staging).

Staging hashes a normalized email as ``sha256(<salt> || lower(trim(email)))`` in
DuckDB (``hash_pii(normalize_email(...))``). Python's ``str.strip`` / ``str.lower``
differ from DuckDB's ``trim`` / ``lower`` on some characters (tabs, dotted I), so
the hash is computed by DuckDB here too: the generator's truth then joins the
marts byte for byte.
"""

from __future__ import annotations

import os

import duckdb
import pyarrow as pa

DEFAULT_SALT = "microseg-demo-salt"


def pii_salt() -> str:
    """The salt staging uses: env var MICROSEG_PII_SALT, else the demo default."""
    return os.environ.get("MICROSEG_PII_SALT", DEFAULT_SALT)


def hash_emails(emails: pa.Array | pa.ChunkedArray | list, salt: str | None = None) -> pa.Array:
    """Salted sha256 hex of each normalized email (trimmed, lower-cased, blank -> null).

    Same length and order as ``emails``; null or blank stays null.
    """
    salt = pii_salt() if salt is None else salt
    arr = pa.chunked_array([pa.array(emails, type=pa.string())]) if isinstance(emails, list) else emails
    tbl = pa.table({"email": arr})
    con = duckdb.connect()
    try:
        con.register("emails", tbl)
        out = con.sql(
            "select sha256($salt || lower(nullif(trim(email), ''))) as h from emails",
            params={"salt": salt},
        ).to_arrow_table()
    finally:
        con.close()
    return out.column("h").combine_chunks().cast(pa.string())
