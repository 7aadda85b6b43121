"""Quality of identity resolution against the generator's truth.

Pairwise precision and recall over identifiers: a pair of identifiers is a
*true* pair when truth gives both the same person, a *predicted* pair when the
map gives both the same customer_key.

- Only identifiers that belong to exactly one person in truth are evaluated.
  A shared family email or a placeholder is listed in truth once per person
  using it; it has no single right customer, so it is left out (and counted).
- An evaluated identifier missing from the map is a customer of its own (a
  singleton): it costs recall, never precision.
- Identifiers in the map but not in truth (phones, unmatched enrichment emails)
  are ignored.

Counts come from the contingency table of (person, customer) cells:
true positives = sum of C(n, 2) over cells, true pairs = sum of C(n, 2) over
persons, predicted pairs = sum of C(n, 2) over customers; no pair is enumerated.

Erasure completeness (:func:`erasure_completeness`): for the persons whose
identifier a staged erasure request names, how many of their identifiers in
truth still appear in customer_identity_map (which covers every identifier of
every source), and how many identifiers of other persons the suppression list
erased (over-erasure).

CLI: ``python -m microseg.identity_eval --truth DIR/truth --db PATH``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

KEY = ["source", "source_id"]


@dataclass
class PairwiseQuality:
    precision: float
    recall: float
    true_positive_pairs: int
    predicted_pairs: int
    true_pairs: int
    identifiers_evaluated: int
    identifiers_multi_person: int  # in truth for several persons: left out
    identifiers_missing_from_map: int  # evaluated as singletons
    persons: int  # distinct persons among evaluated identifiers
    customers: int  # distinct customers among evaluated identifiers (singletons included)


def _pairs(counts: pd.Series | np.ndarray) -> int:
    n = np.asarray(counts, dtype=np.int64)
    return int((n * (n - 1) // 2).sum())


def single_person_identifiers(truth: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Truth rows of identifiers that belong to exactly one person, and how many were left out."""
    t = truth[KEY + ["person_id"]].drop_duplicates()
    persons_per_id = t.groupby(KEY, sort=False)["person_id"].transform("size")
    multi = int(t.loc[persons_per_id > 1, KEY].drop_duplicates().shape[0])
    return t.loc[persons_per_id == 1].reset_index(drop=True), multi


def pairwise_quality(truth: pd.DataFrame, mapping: pd.DataFrame) -> PairwiseQuality:
    """Pairwise precision / recall of ``mapping`` (source, source_id, customer_key)
    against ``truth`` (source, source_id, person_id)."""
    single, multi = single_person_identifiers(truth)
    m = mapping[KEY + ["customer_key"]].drop_duplicates(KEY)
    ev = single.merge(m, on=KEY, how="left")
    missing = ev["customer_key"].isna()
    # a missing identifier is a customer of its own
    ev["customer_key"] = ev["customer_key"].astype(object).where(
        ~missing, "missing:" + ev["source"].astype(str) + ":" + ev["source_id"].astype(str)
    )
    tp = _pairs(ev.groupby(["person_id", "customer_key"], sort=False).size())
    true_pairs = _pairs(ev.groupby("person_id", sort=False).size())
    pred_pairs = _pairs(ev.groupby("customer_key", sort=False).size())
    return PairwiseQuality(
        precision=tp / pred_pairs if pred_pairs else 1.0,
        recall=tp / true_pairs if true_pairs else 1.0,
        true_positive_pairs=tp,
        predicted_pairs=pred_pairs,
        true_pairs=true_pairs,
        identifiers_evaluated=len(ev),
        identifiers_multi_person=multi,
        identifiers_missing_from_map=int(missing.sum()),
        persons=int(ev["person_id"].nunique()),
        customers=int(ev["customer_key"].nunique()),
    )


def recall_ceiling(truth: pd.DataFrame, unlinkable: pd.DataFrame) -> float:
    """Best recall any resolver can reach when the identifiers in ``unlinkable``
    (source, source_id: no evidence ties them to anything) stay singletons and
    every other identifier is resolved perfectly."""
    single, _ = single_person_identifiers(truth)
    flag = single.merge(unlinkable[KEY].drop_duplicates().assign(_u=1), on=KEY, how="left")["_u"].notna().to_numpy()
    oracle = single.assign(
        customer_key=np.where(flag, "u:" + single["source"] + ":" + single["source_id"], single["person_id"].astype(str))
    )
    return pairwise_quality(truth, oracle).recall


def evaluate(truth_dir: Path | str, db_path: Path | str) -> dict:
    """Quality of marts.customer_identity_map in a built DuckDB file against truth_dir."""
    import duckdb

    truth_dir = Path(truth_dir)
    truth = pd.read_parquet(truth_dir / "identity.parquet")
    persons_total = len(pd.read_parquet(truth_dir / "persons.parquet", columns=["person_id"]))
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        mapping = con.sql("select source, source_id, customer_key from marts.customer_identity_map").df()
        # devices with evidence: a login, or a purchase event of a staged order
        with_evidence = con.sql(
            """select distinct events.anonymous_id as source_id
               from staging.stg_tracking__events as events
               left join staging.stg_shop__orders as orders on events.order_id = orders.order_id
               where events.anonymous_id is not null
                 and (events.user_crm_id is not null
                      or (events.event_type = 'purchase' and orders.order_id is not null))"""
        ).df()
        customer_types = dict(
            con.sql(
                "select case when not is_guest then 'crm' when is_anonymous then 'anonymous' else 'guest' end, "
                "count(*) from marts.dim_customers group by 1 order by 1"
            ).fetchall()
        )
    finally:
        con.close()
    q = pairwise_quality(truth, mapping)
    anon = truth.loc[truth["source"] == "anonymous_id", KEY].drop_duplicates()
    never = anon[~anon["source_id"].isin(with_evidence["source_id"])]
    return {
        **asdict(q),
        "persons_total": persons_total,
        "customers_total": int(mapping["customer_key"].nunique()),
        "customers_by_type": customer_types,
        "anonymous_ids_without_evidence": len(never),
        "anonymous_ids_total": len(anon),
        "recall_ceiling": recall_ceiling(truth, never),
    }


TRUTH_TO_SUPPRESSION = {"crm_a": "crm_id", "crm_b": "crm_id", "email": "email_hash", "anonymous_id": "anonymous_id"}


def erasure_completeness(
    truth: pd.DataFrame, requests: pd.DataFrame, mapping: pd.DataFrame, suppressed: pd.DataFrame
) -> dict:
    """Erasure against truth.

    ``requests``: (identifier_type 'crm_id' | 'email', identifier_hash) of the
    staged requests; ``mapping``: customer_identity_map (source, source_id,
    customer_key, is_anonymous); ``suppressed``: the suppression list
    (identifier_type, identifier_value).

    An identifier of an erased person left in the map is *linkable* unless it
    is a device whose customer is anonymous-only: such a device never logged in
    nor bought, so nothing in the data ties it to the person (or to anyone).
    """
    single, _ = single_person_identifiers(truth)
    crm_requested = requests.loc[requests["identifier_type"] == "crm_id", "identifier_hash"]
    email_requested = requests.loc[requests["identifier_type"] == "email", "identifier_hash"]
    named = single[
        (single["source"].isin(["crm_a", "crm_b"]) & single["source_id"].isin(crm_requested))
        | ((single["source"] == "email") & single["source_id"].isin(email_requested))
    ]
    persons = set(named["person_id"])
    theirs = truth.loc[truth["person_id"].isin(persons), KEY].drop_duplicates()
    left = theirs.merge(mapping, on=KEY, how="inner")
    unlinkable = (left["source"] == "anonymous_id") & left["is_anonymous"].astype(bool)
    sup = suppressed.rename(columns={"identifier_type": "stype", "identifier_value": "source_id"})
    t = single.assign(stype=single["source"].map(TRUTH_TO_SUPPRESSION))
    over = t.merge(sup, on=["stype", "source_id"], how="inner")
    over = over[~over["person_id"].isin(persons)]
    by_source = {
        src: {
            "identifiers": int((theirs["source"] == src).sum()),
            "left_linkable": int(((left["source"] == src) & ~unlinkable).sum()),
            "left_unlinkable": int(((left["source"] == src) & unlinkable).sum()),
        }
        for src in sorted(theirs["source"].unique())
    }
    return {
        "requests": int(len(requests)),
        "persons": len(persons),
        "by_source": by_source,
        "left_linkable": int((~unlinkable).sum()),
        "left_unlinkable": int(unlinkable.sum()),
        "over_erased_identifiers": int(len(over)),
        "over_erased_persons": int(over["person_id"].nunique()),
    }


def evaluate_erasure(truth_dir: Path | str, db_path: Path | str) -> dict:
    """:func:`erasure_completeness` of a built DuckDB file against truth_dir."""
    import duckdb

    truth = pd.read_parquet(Path(truth_dir) / "identity.parquet")
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        # where each request starts, in the data's spelling (a lower-case crm id
        # resolved to the record's); phone requests have no truth to check against
        requests = con.sql(
            """select case identifier_type when 'email_hash' then 'email' else identifier_type end as identifier_type,
                      identifier_value as identifier_hash
               from staging.stg_privacy__erasure_seeds
               where identifier_type in ('crm_id', 'email_hash')"""
        ).df()
        mapping = con.sql(
            """select map.source, map.source_id, map.customer_key, customers.is_anonymous
               from marts.customer_identity_map as map
               inner join marts.dim_customers as customers on map.customer_key = customers.customer_key"""
        ).df()
        suppressed = con.sql(
            "select identifier_type, identifier_value from staging.stg_privacy__erased_identifiers"
        ).df()
    finally:
        con.close()
    return erasure_completeness(truth, requests, mapping, suppressed)


def erasure_against_reference(db_path: Path | str, reference_db_path: Path | str) -> dict:
    """Erasure against identity resolution itself: ``reference_db_path`` is a
    build of the same raw data with no erasure request. The customers there
    that hold a requested identifier are the persons to erase; every identifier
    of theirs must be gone from ``db_path``'s map."""
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    ref = duckdb.connect(str(reference_db_path), read_only=True)
    try:
        requests = con.sql(
            """select case identifier_type when 'email' then 'email' else 'crm' end as kind,
                      identifier_hash as source_id
               from staging.stg_privacy__erasure_requests"""
        ).df()
        mapping = con.sql("select source, source_id from marts.customer_identity_map").df()
        reference = ref.sql("select source, source_id, customer_key from marts.customer_identity_map").df()
    finally:
        con.close()
        ref.close()
    kind = np.where(reference["source"].isin(["crm_a", "crm_b"]), "crm", reference["source"])
    named = reference.assign(kind=kind).merge(requests, on=["kind", "source_id"], how="inner")
    theirs = reference[reference["customer_key"].isin(named["customer_key"])]
    left = theirs.merge(mapping, on=KEY, how="inner")
    return {
        "requests": int(len(requests)),
        "customers": int(named["customer_key"].nunique()),
        "identifiers": {k: int(v) for k, v in theirs["source"].value_counts().sort_index().items()},
        "left": {k: int(v) for k, v in left["source"].value_counts().sort_index().items()},
    }


def format_erasure_report(r: dict) -> str:
    lines = [
        f"erasure              {r['requests']:,} requests, {r['persons']:,} persons; identifiers left in the map: "
        f"{r['left_linkable']:,} linkable, {r['left_unlinkable']:,} unlinkable devices; "
        f"over-erased: {r['over_erased_identifiers']:,} identifiers of {r['over_erased_persons']:,} other persons"
    ]
    for src, c in r["by_source"].items():
        lines.append(
            f"  {src:<12} {c['identifiers']:>6,} identifiers, {c['left_linkable']:,} left (linkable), "
            f"{c['left_unlinkable']:,} left (unlinkable)"
        )
    return "\n".join(lines)


def format_report(r: dict) -> str:
    by_type = ", ".join(f"{k} {v:,}" for k, v in sorted(r["customers_by_type"].items()))
    return "\n".join(
        [
            f"pairwise precision   {r['precision']:.4f}  ({r['true_positive_pairs']:,} / {r['predicted_pairs']:,} pairs)",
            f"pairwise recall      {r['recall']:.4f}  ({r['true_positive_pairs']:,} / {r['true_pairs']:,} pairs)",
            f"recall ceiling       {r['recall_ceiling']:.4f}  ({r['anonymous_ids_without_evidence']:,} of "
            f"{r['anonymous_ids_total']:,} anonymous ids never log in nor buy: nothing links them)",
            f"identifiers          {r['identifiers_evaluated']:,} evaluated, {r['identifiers_multi_person']:,} "
            f"shared by several persons left out, {r['identifiers_missing_from_map']:,} missing from the map",
            f"customers vs persons {r['customers']:,} customers for {r['persons']:,} persons (evaluated identifiers); "
            f"{r['customers_total']:,} customers in the map ({by_type}) for {r['persons_total']:,} persons",
        ]
    )


#: the tables the evaluation reads from a build
REQUIRED_TABLES = (
    "marts.customer_identity_map", "marts.dim_customers", "staging.stg_tracking__events", "staging.stg_shop__orders",
    "staging.stg_privacy__erased_identifiers", "staging.stg_privacy__erasure_requests",
    "staging.stg_privacy__erasure_seeds",
)  # fmt: skip


def _input_problem(truth: str, db: str, reference_db: str | None) -> str | None:
    """One line saying which input is missing (a file, a truth table, a table of the build), or None."""
    import duckdb

    for name in ("identity.parquet", "persons.parquet"):
        if not (Path(truth) / name).is_file():
            return f"{Path(truth) / name} not found: --truth is the generator's truth folder"
    for path in (db, reference_db):
        if path is None:
            continue
        if not Path(path).is_file():
            return f"DuckDB file {path} not found: run dbt build on the generated data first"
        con = duckdb.connect(str(path), read_only=True)
        try:
            have = {f"{schema}.{table}" for schema, table in con.sql(
                "select table_schema, table_name from information_schema.tables").fetchall()}  # fmt: skip
        finally:
            con.close()
        missing = [t for t in REQUIRED_TABLES if t not in have]
        if missing:
            return f"{path} has no {', '.join(missing)}: run dbt build (or select +{missing[0].split('.')[1]}) first"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m microseg.identity_eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--truth", required=True, help="the generator's truth folder (identity.parquet)")
    parser.add_argument("--db", required=True, help="DuckDB file built by dbt (marts.customer_identity_map)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument(
        "--reference-db",
        help="a build of the same raw data without erasure requests: check that every identifier of the "
        "customers the requests name there is gone",
    )
    args = parser.parse_args(argv)
    problem = _input_problem(args.truth, args.db, args.reference_db)
    if problem:
        print(f"identity_eval: {problem}", file=sys.stderr)
        return 2
    r = evaluate(args.truth, args.db)
    r["erasure"] = evaluate_erasure(args.truth, args.db)
    text = format_report(r) + "\n" + format_erasure_report(r["erasure"])
    if args.reference_db:
        r["erasure_vs_reference"] = ref = erasure_against_reference(args.db, args.reference_db)
        text += (
            f"\nerasure vs reference {ref['requests']:,} requests name {ref['customers']:,} customers of the "
            f"build without erasure, holding {sum(ref['identifiers'].values()):,} identifiers "
            f"({ref['identifiers']}); left in this build: {sum(ref['left'].values()):,} {ref['left']}"
        )
    print(json.dumps(r, indent=2) if args.json else text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
