"""The same population as a sequence of drops (data arriving over time).

``generate --drops N --drop-days D`` first writes the one-shot raw files, then
splits every raw table into N files ``<out>/drops/<table>/drop_<k>.<fmt>``:
drop k holds the rows that *arrived* in its window, the last D days of the
data per drop for k >= 2, and all older history in drop 1. Arrival is

- events: received_at (else event_at), so a late event lands in a later drop
  than its event time and its session is split over two drops;
- orders: ordered_at; order lines: the drop of their order;
- crm_customers: updated_at (else signup_at), so the older versions of a
  record the generator writes arrive before the current one; in every later
  drop about ``update_pct`` % of the records get a new version (same crm id,
  updated_at inside the drop window, marketing consent flipped);
- third_party: provided_at;
- re-delivered events: an export whose window overlaps the previous one sends
  some rows again, so every drop k >= 2 also carries an exact copy of about
  ``redeliver_pct`` % of drop k-1's events (the same row in two files, which
  staging counts as an exact duplicate, not as a new event);
- erasure_requests: a drop drawn from a hash of the request, never before the
  drop of its own requested_at, so new requests for persons loaded long ago
  appear in later drops; and never before the first drop holding the CRM
  record or order it names (crm id or email): the generator may date a
  request before the person's signup, and a request for an identifier that no
  loaded data holds is unmatched, which fails the build.

A date that does not parse (planted dirt) gets a drop from a hash of the row.
Dates are read at day precision: the drop boundaries are days.

``generate --drops N --shift channel_to_app [--shift-drop k]`` plants a
change of behaviour in drops k..N (default: the last): :func:`plant_shift`,
recorded in truth/shift.json.

``python -m microseg.generate.drops --drops-dir D --raw R --upto k`` puts
drops 1..k (and no later one) into the raw folder R as
``R/<table>/drop_<k>.<fmt>``: the state of a landing folder after k drops.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from microseg import duckdb_memory_limit

from .writer import COMPRESSION, RAW_COLUMNS, raw_schema


def drop_file(k: int, fmt: str) -> str:
    return f"drop_{k:04d}.{fmt}"


def _day(col: str) -> str:
    """Day of an ISO-ish text timestamp, null when it does not parse."""
    return f"try_cast(substr(trim({col}), 1, 10) as date)"


def _reader(path: Path, fmt: str) -> str:
    p = str(path).replace("'", "''")
    if fmt == "csv":
        return f"read_csv('{p}', header = true, all_varchar = true)"
    return f"read_parquet('{p}')"


def _drop_case(day_sql: str, hash_sql: str, bounds: list[dt.date], n: int) -> str:
    whens = " ".join(f"when {day_sql} <= date '{b.isoformat()}' then {k}" for k, b in enumerate(bounds, start=1))
    return f"case when {day_sql} is null then 1 + ({hash_sql}) % {n} {whens} else {n} end"


#: rows per batch streamed from DuckDB into a drop file (pyarrow's default row group)
BATCH_ROWS = 1024 * 1024


def _write(batches: pa.RecordBatchReader, name: str, path: Path, fmt: str) -> int:
    """Write the raw table ``name``'s rows, streamed batch by batch, to ``path``; returns the row count.

    Streamed, not collected: at 1,000,000 persons drop 1 holds 38 M events, and collecting it beside
    DuckDB's tables took the split past 20 GiB (the process was killed)."""
    schema = raw_schema(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        opts = pacsv.WriteOptions(include_header=True, quoting_style="all_valid")
        writer = pacsv.CSVWriter(path, schema, write_options=opts)
    else:
        writer = pq.ParquetWriter(path, schema, compression=COMPRESSION)
    rows = 0
    with writer:
        for batch in batches:
            table = pa.Table.from_batches([batch]).select(list(schema.names)).cast(schema)
            writer.write_table(table)
            rows += table.num_rows
        if rows == 0 and fmt != "csv":
            writer.write_table(schema.empty_table())
    return rows


def split_into_drops(
    out: Path | str,
    fmt: str,
    drops: int,
    drop_days: int,
    end_date: dt.date,
    seed: int = 42,
    update_pct: float = 3.0,
    redeliver_pct: float = 0.5,
) -> dict:
    """Split ``<out>/raw/<table>.<fmt>`` into ``<out>/drops/<table>/drop_<k>.<fmt>``; returns the drops meta.

    The one-shot files are then replaced by ``<out>/raw/<table>/`` holding all
    drops, so ``<out>/raw`` is the same data a full refresh reads.
    """
    if drops < 2:
        raise ValueError("drops must be at least 2")
    if drop_days < 1:
        raise ValueError("drop_days must be at least 1")
    out = Path(out)
    raw_dir, drops_dir = out / "raw", out / "drops"
    # drop k (k < drops) holds days <= bounds[k - 1]; the last drop everything after
    bounds = [end_date - dt.timedelta(days=(drops - k) * drop_days) for k in range(1, drops)]
    # bounded like a dbt run (MICROSEG_MEMORY_LIMIT), spilling to a folder of its own that goes with the split
    spill_dir = out / ".drops_spill"
    con = duckdb.connect(config={"memory_limit": duckdb_memory_limit(), "temp_directory": str(spill_dir)})
    con.execute("set preserve_insertion_order = true")
    con.execute("set enable_progress_bar = false")
    for name in RAW_COLUMNS:
        src = raw_dir / f"{name}.{fmt}"
        con.execute(f"create or replace temp view src_{name} as select *, row_number() over () as _rn from {_reader(src, fmt)}")

    def hsh(*cols: str) -> str:
        return f"hash({seed}, {', '.join(f'coalesce({c}, chr(0))' for c in cols)})"

    arrival = {
        "events": _drop_case(f"coalesce({_day('received_at')}, {_day('event_at')})", hsh("event_id", "event_at"), bounds, drops),
        "orders": _drop_case(_day("ordered_at"), hsh("order_id", "ordered_at"), bounds, drops),
        "crm_customers": _drop_case(
            f"coalesce({_day('updated_at')}, {_day('signup_at')})", hsh("crm_id", "updated_at"), bounds, drops
        ),
        "third_party": _drop_case(_day("provided_at"), hsh("email", "provided_at"), bounds, drops),
        "erasure_requests": (
            f"greatest(1 + ({hsh('request_id', 'identifier_value')}) % {drops}, "
            f"{_drop_case(_day('requested_at'), '0', bounds, drops)})"
        ),
    }
    # a request arrives with or after the first row naming its identifier (d_crm_customers and d_orders
    # are made before it: dict order)
    arrival["erasure_requests"] = (
        f"greatest({arrival['erasure_requests']}, coalesce((select min(named._drop) from ("
        "select _drop, trim(crm_id) as identifier from d_crm_customers "
        "union all select _drop, lower(trim(email)) from d_crm_customers "
        "union all select _drop, lower(trim(customer_ref)) from d_orders) as named "
        "where named.identifier in (trim(identifier_value), lower(trim(identifier_value)))), 1))"
    )
    for name, expr in arrival.items():
        con.execute(f"create or replace temp table d_{name} as select *, {expr} as _drop from src_{name}")
    con.execute(
        f"""
        create or replace temp table d_order_lines as
        select lines.*, coalesce(orders._drop, 1 + ({hsh('lines.order_line_id')}) % {drops}) as _drop
        from src_order_lines as lines
        left join (select trim(order_id) as order_id, min(_drop) as _drop from d_orders group by 1) as orders
            on trim(lines.order_id) = orders.order_id
        """
    )
    # new versions of CRM records in later drops: same id, later updated_at, consent flipped
    crm_cols = RAW_COLUMNS["crm_customers"]
    flip = (
        "case lower(trim(marketing_consent)) when 'true' then 'false' when 'false' then 'true' "
        "when 'y' then 'N' when 'n' then 'Y' else 'true' end"
    )
    for k in range(2, drops + 1):
        start = bounds[k - 2]
        at = (
            f"strftime(timestamp '{start.isoformat()}' + interval 1 day"
            f" + to_seconds(({hsh('crm_id')} + {k}) % ({drop_days} * 86400 - 86400 + 1)), '%Y-%m-%dT%H:%M:%SZ')"
        )
        select = ", ".join(
            {"updated_at": f"{at} as updated_at", "consent_updated_at": f"{at} as consent_updated_at",
             "marketing_consent": f"{flip} as marketing_consent"}.get(c, c)
            for c in crm_cols
        )
        con.execute(
            f"""
            insert into d_crm_customers by name
            select {select}, 1000000000::bigint * {k} + _rn as _rn, {k} as _drop
            from d_crm_customers
            where _drop < {k} and trim(crm_id) <> '' and ({hsh('crm_id')} + {k}) % 10000 < {int(update_pct * 100)}
            qualify row_number() over (partition by trim(crm_id) order by _rn desc) = 1
            """
        )
    # an overlapping export window: copies of some of the previous drop's events, drop by drop (drop k-1 as it
    # was before its own copies were added, so no row is copied twice)
    redelivered = [0] * drops
    for k in range(drops, 1, -1):
        redelivered[k - 1] = con.execute(
            f"""
            insert into d_events by name
            select * exclude (_rn, _drop), 2000000000::bigint * {k} + _rn as _rn, {k} as _drop
            from d_events
            where _drop = {k - 1} and _rn < 1000000000 and ({hsh('event_id', 'event_at')} + {k}) % 10000 < {int(redeliver_pct * 100)}
            """
        ).fetchone()[0]
    rows: dict[str, list[int]] = {}
    for name in RAW_COLUMNS:
        rows[name] = []
        for k in range(1, drops + 1):
            query = f"select * exclude (_rn, _drop) from d_{name} where _drop = {k} order by _rn"
            batches = con.sql(query).to_arrow_reader(BATCH_ROWS)
            rows[name].append(_write(batches, name, drops_dir / name / drop_file(k, fmt), fmt))
    con.close()
    shutil.rmtree(spill_dir, ignore_errors=True)
    meta = {
        "drops": drops,
        "drop_days": drop_days,
        "format": fmt,
        "last_day_of_drop": [b.isoformat() for b in bounds] + [end_date.isoformat()],
        "rows_per_drop": rows,
        "crm_update_pct": update_pct,
        "events_redeliver_pct": redeliver_pct,
        "events_redelivered_per_drop": redelivered,
    }
    (drops_dir / "drops.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    for name in RAW_COLUMNS:
        (raw_dir / f"{name}.{fmt}").unlink()
    stage_drops(drops_dir, raw_dir, drops)
    return meta


#: planted shifts (``generate --drops N --shift KIND``): rows of the shifted drops rewritten, per raw table
SHIFTS = {
    # the web shop moves to the app: web orders become app orders, web sessions app sessions on a phone
    "channel_to_app": {
        "orders": {"channel": "case when lower(trim(channel)) = 'web' then 'app' else channel end"},
        "events": {
            "device": "case when lower(trim(platform)) = 'web' then 'mobile' else device end",
            "platform": "case when lower(trim(platform)) = 'web' then 'app' else platform end",
        },
    },
}


def plant_shift(out: Path | str, kind: str, from_drop: int | None = None) -> dict:
    """Rewrite drops ``from_drop``..N (default: the last drop) of ``<out>/drops`` with the
    planted shift ``kind`` (:data:`SHIFTS`) and record it in ``<out>/truth/shift.json``
    and in drops.json: which drops, from which day, how many rows changed per table.

    Only the drop files change: raw/ holds hard links to them, and a copy is rewritten in
    place of a link, so raw/ (the full-refresh input) sees the same shifted rows. The
    re-delivered copies of drop ``from_drop - 1``'s rows in drop ``from_drop`` stay as they
    were (they describe the time before the shift and must stay exact copies); copies in
    later drops are of already shifted rows and are shifted alike."""
    if kind not in SHIFTS:
        raise ValueError(f"unknown --shift {kind!r}: choose one of {', '.join(sorted(SHIFTS))}")
    out = Path(out)
    drops_dir = out / "drops"
    meta = json.loads((drops_dir / "drops.json").read_text())
    n = meta["drops"]
    from_drop = n if from_drop is None else from_drop
    if not 2 <= from_drop <= n:
        raise ValueError(f"--shift-drop must be between 2 and {n} (drop 1 is the history before any shift)")
    changed: dict[str, int] = {}
    con = duckdb.connect()
    for name, columns in SHIFTS[kind].items():
        changed[name] = 0
        cols = RAW_COLUMNS[name]
        select = ", ".join(f"case when _copy then {c} else {columns[c]} end as {c}" if c in columns else c for c in cols)
        differs = " or ".join(f"({columns[c]}) is distinct from {c}" for c in columns)
        row = f"hash({', '.join(cols)})"
        for k in range(from_drop, n + 1):
            path = drops_dir / name / drop_file(k, meta["format"])
            prev = _reader(drops_dir / name / drop_file(k - 1, meta["format"]), meta["format"])
            copy = f"{row} in (select {row} from {prev})" if k == from_drop else "false"
            src = f"(select *, {copy} as _copy from {_reader(path, meta['format'])})"
            changed[name] += con.sql(f"select count(*) from {src} where not _copy and ({differs})").fetchall()[0][0]
            tmp = path.with_suffix(".shift")
            _write(con.sql(f"select {select} from {src}").to_arrow_reader(BATCH_ROWS), name, tmp, meta["format"])
            for linked in (path, out / "raw" / name / path.name):
                if linked.exists():
                    linked.unlink()
                    shutil.copyfile(tmp, linked)
            tmp.unlink()
    con.close()
    first_day = meta["last_day_of_drop"][from_drop - 2]
    shift = {"kind": kind, "from_drop": from_drop, "to_drop": n,
             "after_day": first_day, "rows_changed": changed}  # fmt: skip
    meta["shift"] = shift
    (drops_dir / "drops.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    (out / "truth").mkdir(parents=True, exist_ok=True)
    (out / "truth" / "shift.json").write_text(json.dumps(shift, indent=2, sort_keys=True) + "\n")
    return shift


def stage_drops(drops_dir: Path | str, raw: Path | str, upto: int) -> list[Path]:
    """Make raw/<table>/ hold exactly drops 1..upto (hard links when possible); returns the files placed."""
    drops_dir, raw = Path(drops_dir), Path(raw)
    meta_path = drops_dir / "drops.json"
    if not meta_path.is_file():
        raise FileNotFoundError(f"{meta_path} not found: generate with --drops first")
    meta = json.loads(meta_path.read_text())
    if not 1 <= upto <= meta["drops"]:
        raise ValueError(f"--upto must be between 1 and {meta['drops']}")
    placed = []
    for name in RAW_COLUMNS:
        folder = raw / name
        folder.mkdir(parents=True, exist_ok=True)
        stale = raw / f"{name}.{meta['format']}"
        if stale.exists():
            stale.unlink()
        for k in range(1, meta["drops"] + 1):
            src, dst = drops_dir / name / drop_file(k, meta["format"]), folder / drop_file(k, meta["format"])
            if k > upto:
                dst.unlink(missing_ok=True)
            elif not dst.exists():
                try:
                    os.link(src, dst)
                except OSError:
                    shutil.copyfile(src, dst)
                placed.append(dst)
    return placed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m microseg.generate.drops",
        description="Put drops 1..k of a generated drop sequence into a raw folder (what has landed after k drops).",
    )
    p.add_argument("--drops-dir", required=True, help="the drops folder written by generate --drops (<out>/drops)")
    p.add_argument("--raw", required=True, help="raw folder to fill (MICROSEG_RAW_PATH of the build)")
    p.add_argument("--upto", type=int, required=True, help="last drop to include")
    args = p.parse_args(argv)
    try:
        placed = stage_drops(args.drops_dir, args.raw, args.upto)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.raw}: drops 1..{args.upto} ({len(placed)} new files)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
