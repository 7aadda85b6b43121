"""Orchestration: generate chunk after chunk and stream them to the writer."""

from __future__ import annotations

import datetime as dt
import json
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

from .campaigns import plant_campaigns, write_campaign_truth
from .config import CHUNK_SIZE, DAY, FX_RATES, GENERATOR_VERSION, Calendar
from .context import RunContext
from .crm import make_crm
from .dirt import DirtLog
from .enrichment import make_erasure, make_third_party
from .events import make_events
from .orders import make_orders
from .people import make_people
from .purchases import simulate_purchases
from .truth import household_counts, identity_table, persons_table, reconciliation
from .writer import OutputWriter

MAX_PERSONS = 10_000_000


def generate_chunk(ctx: RunContext, chunk: int, first: int, n: int):
    """Simulate persons first .. first + n - 1; returns (raw tables, truth tables, dirt log)."""
    log = DirtLog()
    people = make_people(ctx.rng(chunk, "people"), ctx, first, n)
    purch = simulate_purchases(ctx.rng(chunk, "purchases"), ctx.cal, people)
    crm = make_crm(ctx.rng(chunk, "crm"), ctx, people, purch.t0, log)
    purch, recipients = plant_campaigns(ctx.rng(chunk, "campaigns"), ctx.cal, people, crm, purch)
    orders = make_orders(ctx.rng(chunk, "orders"), ctx, people, crm, purch, log)
    events, anon_ident = make_events(ctx.rng(chunk, "events"), ctx, people, crm, purch, orders, log)
    third, tp_pairs = make_third_party(ctx.rng(chunk, "enrichment"), ctx, people, log)
    erasure, er_pairs = make_erasure(ctx.rng(chunk, "erasure"), ctx, people, crm, log, [orders.email_pairs, tp_pairs])
    for key, value in household_counts(people).items():
        log.add(key, value)
    raw = {
        "crm_customers": crm.table,
        "orders": orders.orders,
        "order_lines": orders.lines,
        "events": events,
        "third_party": third,
        "erasure_requests": erasure,
    }
    truth = {
        "persons": persons_table(people, purch),
        "identity": identity_table(
            crm.identity + [anon_ident], [crm.email_pairs, orders.email_pairs, tp_pairs, er_pairs]
        ),
        "future_orders": orders.future,
        "campaign_recipients": recipients,
    }
    return raw, truth, log


def generate(
    persons: int = 20_000,
    seed: int = 42,
    out: Path | str = "data",
    fmt: str = "parquet",
    end_date: dt.date = dt.date(2026, 6, 30),
    progress: bool = True,
    *,
    chunk_size: int = CHUNK_SIZE,
) -> dict:
    """Generate the demo data set; returns the meta dict written to truth/meta.json.

    ``chunk_size`` (persons per chunk) is part of the run's identity: output is
    byte-identical for the same arguments; the CLI always uses CHUNK_SIZE.
    """
    if not 1 <= persons <= MAX_PERSONS:
        raise ValueError(f"persons must be between 1 and {MAX_PERSONS}")
    out = Path(out)
    cal = Calendar.from_end_date(end_date)
    ctx = RunContext(seed=seed, persons_total=persons, cal=cal)
    writer = OutputWriter(out, fmt)
    log = DirtLog()
    n_chunks = math.ceil(persons / chunk_size)
    pending = None
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            for chunk in tqdm(range(n_chunks), disable=not progress, unit="chunk", desc="microseg-generate"):
                first = chunk * chunk_size
                raw, truth, chunk_log = generate_chunk(ctx, chunk, first, min(chunk_size, persons - first))
                log.update(chunk_log)
                if pending is not None:
                    pending.result()
                pending = pool.submit(writer.write_chunk, raw, truth)
            if pending is not None:
                pending.result()
    finally:
        writer.close()
    dirt = log.as_dict()
    meta = {
        "seed": seed,
        "persons": persons,
        "data_end_date": cal.end_date.isoformat(),
        "history_start_date": cal.history_start_date.isoformat(),
        "events_start_date": (dt.date(1970, 1, 1) + dt.timedelta(days=cal.events_start // DAY)).isoformat(),
        "future_end_date": (dt.date(1970, 1, 1) + dt.timedelta(days=cal.future_end // DAY - 1)).isoformat(),
        "format": fmt,
        "generator_version": GENERATOR_VERSION,
        "chunk_size": chunk_size,
        "fx_rates_to_eur": FX_RATES,
        "row_counts": dict(writer.rows),
        "reconciliation": reconciliation(writer.rows, dirt),
    }
    write_campaign_truth(out / "truth")
    (out / "truth" / "dirt.json").write_text(json.dumps(dirt, indent=2, sort_keys=True) + "\n")
    (out / "truth" / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return meta
