"""Ground-truth tables and run metadata (never read by dbt)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..pii import hash_emails
from .dirt import REJECT_REASON
from .people import People
from .personas import PERSONA_NAMES
from .purchases import Purchases
from .writer import RAW_COLUMNS


def persons_table(people: People, purch: Purchases) -> pa.Table:
    """One row per simulated person with the latent process parameters."""
    return pa.table(
        {
            "person_id": people.person_id,
            "persona": pa.array(PERSONA_NAMES).take(pa.array(people.persona)),
            "purchase_rate_per_year": people.rate,
            "dropout_prob": people.dropout,
            "is_active_at_end": purch.alive_at_end,
            "signup_at": pa.array(purch.t0 * 1_000_000, type=pa.timestamp("us", tz="UTC")),
            "has_crm_record": people.has_crm,
        }
    )


def identity_table(id_parts: list[pa.Table], email_pairs: list[pa.Table]) -> pa.Table:
    """Every identifier in the raw files that belongs to a person, deduplicated.

    CRM ids (source crm_a / crm_b), emails (source 'email') and anonymous ids.
    An email's source_id is the salted hash staging computes,
    sha256(MICROSEG_PII_SALT || lower(trim(email))) (microseg.pii), so truth joins
    customer_identity_map directly and holds no raw email. An email shared by a
    household or a placeholder email appears once per person that uses it.
    """
    emails = pa.concat_tables([t.select(["person_id", "email"]) for t in email_pairs])
    email_rows = pa.table(
        {
            "source": pa.array(["email"] * emails.num_rows, type=pa.string()),
            "source_id": hash_emails(emails.column("email").cast(pa.string())),
            "person_id": emails.column("person_id").cast(pa.int64()),
        }
    )
    parts = [t.select(["source", "source_id", "person_id"]).cast(email_rows.schema) for t in id_parts]
    df = pa.concat_tables(parts + [email_rows]).to_pandas()
    df = df.drop_duplicates().sort_values(["source", "source_id", "person_id"], kind="stable")
    return pa.Table.from_pandas(df, preserve_index=False)


def reconciliation(rows: dict[str, int], dirt: dict[str, int]) -> dict[str, dict]:
    """Expected staging outcome per raw file: raw = staged + exact duplicates + rejected."""
    out = {}
    for name in RAW_COLUMNS:
        dups = dirt.get(f"{name}.exact_duplicate_rows", 0)
        rejected: dict[str, int] = {}
        for kind, reason in REJECT_REASON.items():
            if kind.split(".")[0] == name and dirt.get(kind, 0):
                rejected[reason] = rejected.get(reason, 0) + dirt[kind]
        out[name] = {
            "raw_rows": rows[name],
            "exact_duplicate_rows": dups,
            "rejected": dict(sorted(rejected.items())),
            "staged_rows": rows[name] - dups - sum(rejected.values()),
        }
    return out


def household_counts(people: People) -> dict[str, int]:
    """Descriptive counts of shared household emails."""
    shared = people.household_size > 1
    heads = shared & (people.household_head == np.arange(people.n))
    return {"people.shared_email_households": int(heads.sum()), "people.shared_email_persons": int(shared.sum())}
