"""The generator's drops (microseg.generate.drops): the same population as files arriving over time.

One population of 1,500 persons as 3 drops of 7 days, generated once: the drops
hold every one-shot row exactly once plus the new CRM versions and re-delivered
copies of some events of the drop before; late events
and new erasure requests arrive in later drops; staging "up to drop k" puts
exactly drops 1..k into a raw folder.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from microseg.generate import generate
from microseg.generate.drops import main as drops_main
from microseg.generate.drops import split_into_drops, stage_drops
from microseg.generate.writer import RAW_COLUMNS

DROPS, DROP_DAYS = 3, 7


@pytest.fixture(scope="module")
def dropped(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("drops") / "data"
    generate(persons=1500, seed=7, out=out, progress=False)
    # keep the one-shot files to compare with
    oneshot = out / "oneshot"
    oneshot.mkdir()
    for name in RAW_COLUMNS:
        (oneshot / f"{name}.parquet").write_bytes((out / "raw" / f"{name}.parquet").read_bytes())
    split_into_drops(out, "parquet", DROPS, DROP_DAYS, dt.date(2026, 6, 30), seed=7)
    return out


def _rows(path_glob: str, con=None) -> duckdb.DuckDBPyRelation:
    return (con or duckdb.connect()).sql(f"select * from read_parquet('{path_glob}')")


def test_drops_hold_every_oneshot_row_once_plus_crm_versions(dropped):
    con = duckdb.connect()
    meta = json.loads((dropped / "drops" / "drops.json").read_text())
    for name in RAW_COLUMNS:
        oneshot = f"read_parquet('{dropped / 'oneshot' / name}.parquet')"
        drops = f"read_parquet('{dropped / 'drops' / name}/drop_*.parquet')"
        missing = con.execute(f"select count(*) from (from {oneshot} except all from {drops})").fetchone()[0]
        extra = con.execute(f"select count(*) from (from {drops} except all from {oneshot})").fetchone()[0]
        assert missing == 0, name
        assert sum(meta["rows_per_drop"][name]) == con.execute(f"select count(*) from {drops}").fetchone()[0]
        if name == "crm_customers":
            # new versions: an id already known, a later updated_at, the consent flipped
            assert extra >= 20
            assert con.execute(f"""
                select count(*) from (from {drops} except all from {oneshot}) as v
                where trim(crm_id) not in (select trim(crm_id) from {oneshot} where crm_id is not null)
            """).fetchone()[0] == 0  # fmt: skip
        elif name == "events":
            # re-delivered: every extra row is an exact copy of a row of the drop before, about 0.5 % of it
            cols = ", ".join(RAW_COLUMNS[name])
            files = sorted((dropped / "drops" / name).glob("drop_*.parquet"))
            copies = sum(con.execute(f"""
                select count(*) from (
                    select {cols} from read_parquet('{cur}') intersect all select {cols} from read_parquet('{prev}')
                )""").fetchone()[0] for prev, cur in zip(files, files[1:]))  # fmt: skip
            assert copies == extra == sum(meta["events_redelivered_per_drop"])
            assert 0 < extra < 0.02 * con.execute(f"select count(*) from {oneshot}").fetchone()[0]
        else:
            assert extra == 0, name


def test_late_events_arrive_in_a_later_drop_than_their_event_time(dropped):
    con = duckdb.connect()
    first_day_of_drop_3 = dt.date(2026, 6, 30) - dt.timedelta(days=DROP_DAYS - 1)
    late = con.execute(f"""
        select count(*) from read_parquet('{dropped / 'drops' / 'events'}/drop_0003.parquet')
        where try_cast(substr(trim(event_at), 1, 10) as date) < date '{first_day_of_drop_3}'
    """).fetchone()[0]  # fmt: skip
    assert late > 0
    # and every event of drop 1 was received by the end of drop 1's window
    last_day_of_drop_1 = dt.date(2026, 6, 30) - dt.timedelta(days=2 * DROP_DAYS)
    early = con.execute(f"""
        select count(*) from read_parquet('{dropped / 'drops' / 'events'}/drop_0001.parquet')
        where try_cast(substr(trim(received_at), 1, 10) as date) > date '{last_day_of_drop_1}'
    """).fetchone()[0]  # fmt: skip
    assert early == 0


def test_erasure_requests_and_crm_updates_arrive_in_later_drops(dropped):
    meta = json.loads((dropped / "drops" / "drops.json").read_text())
    assert sum(meta["rows_per_drop"]["erasure_requests"][1:]) >= 1
    assert all(n > 0 for n in meta["rows_per_drop"]["crm_customers"][1:])


def test_erasure_request_never_arrives_before_the_record_it_names(tmp_path):
    # the generator may date a request before the person's signup: it would land a drop before their CRM
    # record (by id) or order (by email) and stay unmatched, a build error, until that arrives
    import pyarrow as pa
    import pyarrow.parquet as pq

    raw = tmp_path / "raw"
    raw.mkdir()
    rows = {"crm_customers": {"crm_id": ["A1"], "email": ["new@example.com"], "signup_at": ["2026-06-28T10:00:00Z"],
                              "updated_at": ["2026-06-29T10:00:00Z"]},
            "orders": {"order_id": ["O1"], "customer_ref": ["guest@example.com"],
                       "ordered_at": ["2026-06-20T10:00:00Z"]},
            # six requests by the crm id (the hash alone spreads them over the drops), one by the guest's email
            "erasure_requests": {"request_id": [f"R{i}" for i in range(1, 8)],
                                 "identifier_type": ["crm_id"] * 6 + ["email"],
                                 "identifier_value": ["A1"] * 6 + ["Guest@Example.com"],
                                 "requested_at": ["2026-01-15T10:00:00Z"] * 7}}  # fmt: skip
    for name, columns in RAW_COLUMNS.items():
        given = rows.get(name, {})
        n = len(next(iter(given.values()))) if given else 0
        pq.write_table(pa.table({c: pa.array(given.get(c, [None] * n), pa.string()) for c in columns}),
                       raw / f"{name}.parquet")  # fmt: skip
    split_into_drops(tmp_path, "parquet", DROPS, DROP_DAYS, dt.date(2026, 6, 30), seed=7)
    con = duckdb.connect()
    files = tmp_path / "drops" / "erasure_requests" / "drop_*.parquet"
    arrived = dict(con.execute(f"select request_id, parse_filename(filename, true) "
                               f"from read_parquet('{files}', filename = true)").fetchall())  # fmt: skip
    # the CRM record arrives in drop 3 (updated 2026-06-29), the guest's order in drop 2 (2026-06-20)
    assert [arrived[f"R{i}"] for i in range(1, 7)] == ["drop_0003"] * 6 and arrived["R7"] >= "drop_0002", arrived


def test_stage_drops_puts_exactly_drops_one_to_k_into_the_raw_folder(dropped, tmp_path):
    raw = tmp_path / "raw"
    stage_drops(dropped / "drops", raw, 2)
    assert sorted(p.name for p in (raw / "events").iterdir()) == ["drop_0001.parquet", "drop_0002.parquet"]
    stage_drops(dropped / "drops", raw, 1)
    assert sorted(p.name for p in (raw / "orders").iterdir()) == ["drop_0001.parquet"]
    assert drops_main(["--drops-dir", str(dropped / "drops"), "--raw", str(raw), "--upto", "4"]) == 2


def test_planted_shift_rewrites_only_the_late_drops_and_is_recorded(tmp_path):
    """``generate --drops 3 --shift channel_to_app``: drop 3's web orders and sessions move to the
    app (raw/ too, the full-refresh input), drops 1-2 keep theirs, truth/shift.json says so.
    Planted defect seen failing: rewriting the drop file without its raw/ copy (raw/ kept web).
    Drop 3's re-delivered copies of drop 2's events stay as they were."""
    from microseg.generate.cli import main as generate_main

    out = tmp_path / "data"
    assert generate_main(["--persons", "300", "--seed", "7", "--out", str(out), "--drops", "3",
                          "--drop-days", "14", "--shift", "channel_to_app", "--no-progress"]) == 0  # fmt: skip
    truth = json.loads((out / "truth" / "shift.json").read_text())
    assert (truth["kind"], truth["from_drop"], truth["to_drop"]) == ("channel_to_app", 3, 3)
    assert json.loads((out / "drops" / "drops.json").read_text())["shift"] == truth
    con = duckdb.connect()
    web = {
        folder: dict(con.sql(f"""select parse_filename(filename, true), count(*) filter (where lower(trim(channel)) = 'web')
            from read_parquet('{out / folder / 'orders'}/*.parquet', filename = true) group by 1""").fetchall())
        for folder in ("drops", "raw")
    }  # fmt: skip
    for counts in web.values():
        assert counts["drop_0003"] == 0 and counts["drop_0001"] > 0 and counts["drop_0002"] > 0
    app = con.sql(f"""select count(*) from read_parquet('{out / 'raw' / 'orders'}/drop_0003.parquet')
        where lower(trim(channel)) = 'app'""").fetchall()[0][0]  # fmt: skip
    assert truth["rows_changed"]["orders"] > 0 and app >= truth["rows_changed"]["orders"]
    # the only web events left in drop 3 are the re-delivered copies of drop 2's rows, unchanged
    events = {k: f"read_parquet('{out / 'raw' / 'events'}/drop_000{k}.parquet')" for k in (2, 3)}
    web_left, web_copies = con.sql(f"""select
        (select count(*) from {events[3]} where lower(trim(platform)) = 'web'),
        (select count(*) from (from {events[3]} intersect all from {events[2]}) where lower(trim(platform)) = 'web')
        """).fetchall()[0]  # fmt: skip
    assert web_left == web_copies
    copies = con.sql(f"select count(*) from (from {events[3]} intersect all from {events[2]})").fetchall()[0][0]
    assert copies == json.loads((out / "drops" / "drops.json").read_text())["events_redelivered_per_drop"][2] > 0
    with pytest.raises(SystemExit):
        generate_main(["--persons", "10", "--out", str(tmp_path / "x"), "--shift", "channel_to_app"])  # no drops
