"""read_frame gives what relation.df() gives, a chunk at a time."""

import duckdb
import pandas as pd
import pytest

from microseg.frames import read_frame, release_freed_memory, with_text_column

# 3 chunks of 2 vectors (4,096 rows) each at vectors_per_chunk=2; the text, integer and boolean
# columns are null in every row of the first chunk and hold values in the later ones
QUERY = """
    select
        range as customer_key,
        case when range >= 5000 then 'c' || range end as campaign_id,
        case when range >= 5000 then range % 7 end as bucket,
        case when range >= 9000 then range % 2 = 0 end as flag,
        date '2026-01-01' + cast(range % 300 as integer) as as_of_date,
        cast(range / 7 as decimal(18, 2)) as amount_eur,
        range / 3.0 as score
    from range(10000)
"""


@pytest.fixture()
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def test_read_frame_equals_df_across_chunks(con):
    expected = con.sql(QUERY).df()
    got = read_frame(con.sql(QUERY), con, vectors_per_chunk=2)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    # the chunks did not all have the dtypes of the whole: the test would not fail without the unification
    first = con.execute(QUERY).fetch_df_chunk(2)
    assert first["campaign_id"].isna().all() and str(first["campaign_id"].dtype) != str(expected["campaign_id"].dtype)


def test_read_frame_of_filtered_projected_and_empty_relations(con):
    rel = con.sql(QUERY).filter("customer_key % 3 = 0").project("customer_key, campaign_id, as_of_date")
    pd.testing.assert_frame_equal(read_frame(rel, con, vectors_per_chunk=1), rel.df(), check_exact=True)
    empty = con.sql(QUERY).filter("false")
    pd.testing.assert_frame_equal(read_frame(empty, con), empty.df(), check_exact=True)


def test_the_connection_is_free_after_read_frame(con):
    read_frame(con.sql(QUERY), con, vectors_per_chunk=1)
    assert con.sql("select 42").fetchall() == [(42,)]


def _resident_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def test_release_freed_memory_returns_the_allocators_pages_and_keeps_the_limit(con):
    con.execute("set memory_limit = '4GB'; set threads = 2")
    limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
    # a hash aggregate over 8 M distinct keys frees some hundreds of MiB when it ends
    con.execute("select count(*) from (select range % 8000000 as k, count(*) from range(16000000) group by k)")
    held = _resident_mib()
    for _ in range(3):
        release_freed_memory()
    assert held - _resident_mib() > 100
    assert con.execute("select current_setting('memory_limit')").fetchone()[0] == limit


def test_with_text_column_adds_the_value_to_every_row(con):
    frame = con.sql(QUERY).df()
    value = '{"2026-01-01": {"r": 0.24, "note": "it\'s"}}'
    rel = with_text_column(con, frame, "btyd_fit", value)
    pd.testing.assert_frame_equal(rel.df(), frame.assign(btyd_fit=value), check_exact=True)
    con.execute("create table scored as select * from rel")
    assert con.sql("select data_type from information_schema.columns where table_name = 'scored'"
                   " and column_name = 'btyd_fit'").fetchall() == [("VARCHAR",)]
