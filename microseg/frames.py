"""Reading a DuckDB relation into pandas at a bounded memory cost.

``relation.df()`` materialises the whole result inside DuckDB before it builds the DataFrame, so for
a moment the process holds the result twice, and DuckDB keeps its copy cached after the conversion:
customer_value_features at 1,000,000 persons (2.3 M rows x 42 columns, an 826 MiB DataFrame) peaked
at 3,272 MiB and left 2,313 MiB resident. :func:`read_frame` fetches the same DataFrame a chunk at a
time (about a million rows) and concatenates: 1,980 MiB peak, 1,479 MiB resident, the same frame
(docs/decisions.md, "Python models read in chunks"). Every dbt Python model reads its inputs with it.
"""

from __future__ import annotations

import duckdb
import pandas as pd

# DuckDB vectors (2,048 rows each) per fetched chunk: about a million rows
VECTORS_PER_CHUNK = 512


def _unify(parts: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """The parts with one dtype per column. A chunk whose values of a column are all null may come out
    with another dtype than the chunks with values (object for a text column DuckDB otherwise gives
    pandas' str dtype); such columns take the dtype the chunks with values share."""
    for column in parts[0].columns:
        dtypes = {str(part[column].dtype) for part in parts}
        if len(dtypes) == 1:
            continue
        with_values = {str(part[column].dtype): part[column].dtype for part in parts if part[column].notna().any()}
        if len(with_values) != 1:
            continue  # values of several dtypes: pandas' concat decides, as it would for any frames
        (target,) = with_values.values()
        for part in parts:
            if str(part[column].dtype) != str(target) and part[column].isna().all():
                part[column] = part[column].astype(target)
    return parts


def release_freed_memory() -> None:
    """Give back to the operating system the memory DuckDB's allocator still holds after the queries
    that used it have freed it. DuckDB's jemalloc keeps freed pages until its own next allocations, so
    after a large query they stay resident while a Python model fills memory with frames that DuckDB's
    pool does not count (after a count distinct over the 38 M staged events of the 1,000,000-person
    bench: 1,413 MiB resident, 435 MiB in use by DuckDB; 521 MiB resident after this). Opening a
    database or setting its memory_limit makes DuckDB flush the allocator, which is one per process: a
    scratch in-memory database is opened and its limit set (13-30 ms). The build's database, its limit
    and any query running beside this one are not touched; setting the build database's own limit to
    the value DuckDB shows would lower it each time ('3.7 GiB' reads back as '3.6 GiB')."""
    with duckdb.connect() as scratch:
        scratch.execute("set memory_limit = '1GB'")


def read_frame(relation, connection, vectors_per_chunk: int = VECTORS_PER_CHUNK) -> pd.DataFrame:
    """``relation.df()`` read ``vectors_per_chunk`` x 2,048 rows at a time on ``connection`` (the
    connection the relation belongs to: a dbt Python model's ``session``); the result is consumed in
    full before this returns, so the connection is free for the next query. The allocator's freed
    memory is released before the read and after it (:func:`release_freed_memory`)."""
    release_freed_memory()
    try:
        return _read_chunks(relation, connection, vectors_per_chunk)
    finally:
        release_freed_memory()


def _read_chunks(relation, connection, vectors_per_chunk: int) -> pd.DataFrame:
    result = connection.execute(relation.sql_query())
    parts = [result.fetch_df_chunk(vectors_per_chunk)]
    while not parts[-1].empty:  # a fetch that returns no rows ends the result
        parts.append(result.fetch_df_chunk(vectors_per_chunk))
    if len(parts) > 1:
        parts.pop()
    if len(parts) == 1:
        return parts[0]
    return pd.concat(_unify(parts), ignore_index=True)


def with_text_column(connection, frame: pd.DataFrame, name: str, value: str):
    """``frame`` with one more column, ``name``, holding ``value`` on every row, as a DuckDB relation
    on ``connection`` (a dbt Python model may return it): DuckDB keeps one constant where pandas
    would keep one copy of the text per row."""
    literal = "'" + value.replace("'", "''") + "'"
    quoted = '"' + name.replace('"', '""') + '"'
    return connection.from_df(frame).project(f"*, {literal} as {quoted}")
