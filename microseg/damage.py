"""Damaged raw exports for testing staging (tests/python/test_damaged_inputs.py).

``plant_row_damage`` copies a clean generated raw folder and appends one row per
row-level damage class in DAMAGES to its table: a bad value (``infinity`` as a
date, a zone name, an amount of 1e300, a phone number in a region, an email as
a user id ...) or a real-world shape staging must accept (an all-digit order id,
a fractional quantity, a CRM record with only an id and a signup time). Every
planted row uses its own ids (``dmg-...``), so no erasure request reaches it
and it can be found again by its marker. Each class states its documented
outcome:

- ``("rejected", reason)``: the row is in stg_<source>_rejected with that code;
- ``("staged", None)``: the row is staged;
- ``("nulled", column)``: the row is staged and that column is emptied
  (listed in the base model's pii_nulled_columns).

``plant_file_damage`` writes the file-level classes (a missing required column,
a zero-byte file, a CSV line with a stray field), each into its own folder.
``plant_german_export`` writes the whole folder as a German spreadsheet export
(``;``-delimited CSV, decimal commas): nearly every order line is rejected, so
the build must stop on the reject-share test with the source, its share and top
reasons in one line.

    python -m microseg.damage --raw data/dmg/raw --out data/dmg/damaged
"""

from __future__ import annotations

import argparse
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

#: emails and phone numbers planted in fields where they do not belong: none may
#: appear outside staging, in dbt's logs or in run_results.json
PII_EMAIL = "lea.dmgtest@example.org"
PII_PHONE = "+49 30 9876543"

#: a valid customer and a valid order the damaged rows refer to
OK_CRM_ID = "dmg-C-ok"
OK_ORDER_ID = "dmg-O-ok"
OK_TIME = "2025-03-01T10:00:00Z"


@dataclass(frozen=True)
class Damage:
    """One planted row: its class name, raw table, the values that differ from
    the table's clean template row, the expected outcome and the (raw column,
    value) marker that finds it again."""

    name: str
    table: str
    values: dict[str, str | None]
    outcome: tuple[str, str | None]
    marker: tuple[str, str]
    pii: tuple[str, ...] = field(default=())


def _templates(n: str) -> dict[str, dict[str, str | None]]:
    """Clean rows of every table, with ids made unique by ``n``."""
    return {
        "crm_customers": {
            "source_system": "crm_a", "crm_id": f"dmg-C-{n}", "first_name": "Dmgfirst", "last_name": "Dmglast",
            "email": f"dmg-{n}@example.org", "phone": "", "birth_date": "1985-05-05", "gender": "F",
            "city": "Berlin", "region": "Berlin", "postcode": "10115", "signup_at": OK_TIME,
            "marketing_consent": "true", "consent_updated_at": OK_TIME, "updated_at": OK_TIME,
        },
        "orders": {
            "order_id": f"dmg-O-{n}", "customer_ref": OK_CRM_ID, "ordered_at": "2025-03-02T10:00:00Z",
            "currency": "EUR", "channel": "web", "payment_method": "card",
        },
        "order_lines": {
            "order_line_id": f"dmg-L-{n}", "order_id": OK_ORDER_ID, "product_category": "Outdoor",
            "quantity": "1", "unit_price": "10.00", "discount_amount": "0", "line_amount": "10.00",
        },
        "events": {
            "event_id": f"dmg-E-{n}", "event_type": "page_view", "event_at": "2025-03-02T10:00:00Z",
            "received_at": "2025-03-02T10:00:01Z", "anonymous_id": f"dmg-anon-{n}", "user_id": "",
            "session_id": f"dmg-sess-{n}", "platform": "web", "device": "desktop", "page_category": "Outdoor",
            "campaign_id": "", "order_id": "",
        },
        "third_party": {
            "email": f"dmg-tp-{n}@example.org", "interest_sustainability": "0.5", "interest_outdoors": "0.5",
            "interest_fashion": "0.5", "interest_tech": "0.5", "interest_home": "0.5", "interest_deals": "0.5",
            "income_band": "<25k", "household_size": "2", "provided_at": OK_TIME,
        },
    }  # fmt: skip


def _d(name, table, values, outcome, marker=None, pii=()):
    return Damage(name, table, values, outcome, marker or ("", ""), tuple(pii))


REJ, STG, NUL = "rejected", "staged", "nulled"

#: every row-level damage class (name, table, changed values, outcome); the
#: marker defaults to the row's own key and is set where the key is the damage
DAMAGES: tuple[Damage, ...] = (
    # --- keys that are placeholders are missing, never real ids
    _d("crm_key_NULL", "crm_customers", {"crm_id": "NULL"}, (REJ, "missing_key"), ("first_name", "Dmgkeya")),
    _d("crm_key_null", "crm_customers", {"crm_id": "null"}, (REJ, "missing_key"), ("first_name", "Dmgkeyb")),
    _d("crm_key_na", "crm_customers", {"crm_id": "N/A"}, (REJ, "missing_key"), ("first_name", "Dmgkeyc")),
    _d("crm_key_tab", "crm_customers", {"crm_id": "\t"}, (REJ, "missing_key"), ("first_name", "Dmgkeyd")),
    _d("order_key_dash", "orders", {"order_id": "-"}, (REJ, "missing_key"), ("payment_method", "dmgkeye")),
    _d("line_key_question", "order_lines", {"order_line_id": "?"}, (REJ, "missing_key"),
       ("product_category", "dmgkeyf")),
    _d("event_key_none", "events", {"event_id": "none"}, (REJ, "missing_key"), ("session_id", "dmgkeyg")),
    # --- dates a plain cast would accept
    _d("crm_signup_infinity", "crm_customers", {"signup_at": "infinity"}, (REJ, "invalid_timestamp")),
    _d("crm_signup_minus_infinity", "crm_customers", {"signup_at": "-infinity"}, (REJ, "invalid_timestamp")),
    _d("crm_signup_epoch", "crm_customers", {"signup_at": "epoch"}, (REJ, "invalid_timestamp")),
    _d("crm_signup_zone_abbreviation", "crm_customers", {"signup_at": "2025-03-01 10:00 CET"},
       (REJ, "invalid_timestamp")),
    _d("order_zone_name", "orders", {"ordered_at": "2025-03-02T10:00:00 Europe/Berlin"}, (REJ, "invalid_timestamp")),
    _d("event_zone_est", "events", {"event_at": "2025-03-02 10:00:00 EST"}, (REJ, "invalid_timestamp")),
    _d("order_offset_25h", "orders", {"ordered_at": "2025-03-02T10:00:00+25:00"}, (REJ, "invalid_timestamp")),
    _d("event_received_offset_15h", "events", {"received_at": "2025-03-02T10:00:00-15:00"},
       (REJ, "invalid_timestamp")),
    _d("third_party_provided_infinity", "third_party", {"provided_at": "infinity"}, (REJ, "invalid_timestamp")),
    _d("crm_birth_infinity", "crm_customers", {"birth_date": "infinity"}, (REJ, "invalid_timestamp")),
    # --- dates that parse but cannot be true
    _d("order_in_1899", "orders", {"ordered_at": "1899-12-31T10:00:00Z"}, (REJ, "out_of_range")),
    _d("order_in_2099", "orders", {"ordered_at": "2099-01-01T10:00:00Z"}, (REJ, "out_of_range")),
    _d("crm_signup_1899", "crm_customers", {"signup_at": "1899-05-01T10:00:00Z"}, (REJ, "out_of_range")),
    _d("crm_birth_1800", "crm_customers", {"birth_date": "1800-01-01"}, (REJ, "out_of_range")),
    _d("crm_birth_future", "crm_customers", {"birth_date": "2090-01-01"}, (REJ, "out_of_range")),
    _d("event_in_2099", "events", {"event_at": "2099-01-01T10:00:00Z"}, (REJ, "out_of_range")),
    _d("third_party_provided_1899", "third_party", {"provided_at": "1899-01-01T00:00:00Z"}, (REJ, "out_of_range")),
    # --- amounts and quantities
    _d("line_amount_1e300", "order_lines", {"unit_price": "1e300", "line_amount": "1e300"}, (REJ, "out_of_range")),
    _d("line_amount_inf", "order_lines", {"line_amount": "inf"}, (REJ, "invalid_number")),
    _d("line_quantity_zero_with_amount", "order_lines", {"quantity": "0"}, (REJ, "amount_sign_mismatch")),
    _d("line_negative_discount_on_sale", "order_lines", {"discount_amount": "-5", "line_amount": "15.00"},
       (REJ, "amount_sign_mismatch")),
    _d("line_sign_mismatch", "order_lines", {"line_amount": "-10.00"}, (REJ, "amount_sign_mismatch")),
    _d("line_fractional_quantity", "order_lines", {"quantity": "0.75", "line_amount": "7.50"}, (STG, None)),
    _d("third_party_score_placeholder", "third_party", {"interest_tech": "n/a"}, (STG, None)),
    # --- PII in identifiers and names: the row is rejected
    _d("crm_name_with_at", "crm_customers", {"first_name": "Dmg@"}, (REJ, "pii_in_text")),
    _d("crm_name_is_email", "crm_customers", {"last_name": PII_EMAIL}, (REJ, "pii_in_text"), pii=[PII_EMAIL]),
    _d("crm_id_is_email", "crm_customers", {"crm_id": PII_EMAIL}, (REJ, "pii_in_text"),
       ("first_name", "Dmgkeyh"), pii=[PII_EMAIL]),
    _d("order_ref_is_phone", "orders", {"customer_ref": PII_PHONE}, (REJ, "pii_in_text"), pii=[PII_PHONE]),
    _d("event_user_id_is_email", "events", {"user_id": PII_EMAIL}, (REJ, "pii_in_text"), pii=[PII_EMAIL]),
    _d("event_anonymous_id_is_phone", "events", {"anonymous_id": PII_PHONE}, (REJ, "pii_in_text"), pii=[PII_PHONE]),
    # --- PII in free-text attributes: the value is emptied, the row stays
    _d("crm_region_is_phone", "crm_customers", {"region": PII_PHONE}, (NUL, "region"), pii=[PII_PHONE]),
    _d("crm_postcode_is_phone", "crm_customers", {"postcode": "0309876543"}, (NUL, "postcode"),
       pii=["0309876543"]),
    _d("crm_city_is_email", "crm_customers", {"city": PII_EMAIL}, (NUL, "city"), pii=[PII_EMAIL]),
    _d("order_channel_is_email", "orders", {"channel": PII_EMAIL}, (NUL, "channel"), pii=[PII_EMAIL]),
    _d("event_page_category_is_email", "events", {"page_category": PII_EMAIL}, (NUL, "page_category"),
       pii=[PII_EMAIL]),
    # --- text too long for fuzzy matching
    _d("crm_name_20kb", "crm_customers", {"first_name": "Dmg" + "x" * 20_000}, (REJ, "out_of_range")),
    # --- real data that must fit
    _d("crm_id_and_signup_only", "crm_customers",
       {"first_name": "", "last_name": "", "email": "", "phone": "", "birth_date": "", "gender": "", "city": "",
        "region": "", "postcode": "", "marketing_consent": "", "consent_updated_at": "", "updated_at": ""},
       (STG, None)),
    _d("crm_placeholder_attributes", "crm_customers",
       {"phone": "N/A", "gender": "?", "city": "none", "birth_date": "-", "updated_at": "NULL"}, (STG, None)),
    _d("order_all_digit_id", "orders", {"order_id": "4915123456789"}, (STG, None)),
    _d("line_all_digit_id", "order_lines", {"order_line_id": "4930123456"}, (STG, None)),
    _d("event_all_digit_session_id", "events", {"session_id": "01719876543"}, (STG, None)),
)


def damage_rows() -> dict[str, list[dict[str, str | None]]]:
    """The rows to append per raw table: the planted rows of DAMAGES plus the
    valid customer and order they refer to."""
    rows: dict[str, list[dict[str, str | None]]] = {}
    ok = _templates("ok")
    rows["crm_customers"] = [ok["crm_customers"]]
    rows["orders"] = [ok["orders"]]
    for i, damage in enumerate(DAMAGES):
        row = {**_templates(f"{i:02d}")[damage.table], **damage.values}
        if damage.marker[0]:
            row[damage.marker[0]] = damage.marker[1]
        rows.setdefault(damage.table, []).append(row)
    return rows


def marker(damage: Damage) -> tuple[str, str]:
    """(raw column, value) that finds the planted row of ``damage`` again."""
    if damage.marker[0]:
        return damage.marker
    i = DAMAGES.index(damage)
    row = {**_templates(f"{i:02d}")[damage.table], **damage.values}
    key = {"crm_customers": "crm_id", "orders": "order_id", "order_lines": "order_line_id", "events": "event_id",
           "third_party": "email"}[damage.table]  # fmt: skip
    return key, row[key]


def _copy(raw: Path, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(raw, out)


def plant_row_damage(raw: Path | str, out: Path | str) -> Path:
    """Copy the clean Parquet raw folder ``raw`` to ``out`` with every row-level
    damage class appended; returns ``out``."""
    raw, out = Path(raw), Path(out)
    _copy(raw, out)
    for table, rows in damage_rows().items():
        path = out / f"{table}.parquet"
        clean = pq.read_table(path)
        extra = pa.Table.from_pylist([{c: r.get(c) for c in clean.column_names} for r in rows], schema=clean.schema)
        pq.write_table(pa.concat_tables([clean, extra]), path)
    return out


#: file-level classes: name -> (what is wrong, folder, raw file and column the
#: error line must name). The run-start check stops at the first bad source, so
#: each class has its own folder.
FILE_DAMAGES: dict[str, tuple[str, str, str, str]] = {
    "missing_required_column": ("crm_customers without its signup_at column", "parquet_files", "crm_customers",
                                "signup_at"),
    "zero_byte_file": ("an empty orders file (0 bytes)", "zero_byte_file", "orders", ""),
    "csv_stray_field": ("a CSV crm_customers line with one field too many, holding an email", "csv_file",
                        "crm_customers", ""),
}  # fmt: skip


def plant_file_damage(raw: Path | str, out: Path | str) -> dict[str, Path]:
    """The FILE_DAMAGES folders under ``out`` (folder name -> path), each a copy
    of ``raw`` with its class planted: parquet_files (crm_customers without
    signup_at), zero_byte_file (a zero-byte orders.parquet) and csv_file (every table as CSV, one
    crm_customers line with a stray field holding an email)."""
    raw, out = Path(raw), Path(out)
    folders = {}
    for folder_name in sorted({spec[1] for spec in FILE_DAMAGES.values()}):
        folders[folder_name] = out / folder_name
        _copy(raw, folders[folder_name])
    crm = folders["parquet_files"] / "crm_customers.parquet"
    pq.write_table(pq.read_table(crm).drop_columns(["signup_at"]), crm)
    (folders["zero_byte_file"] / "orders.parquet").write_bytes(b"")
    csv_folder = folders["csv_file"]
    for path in list(csv_folder.glob("*.parquet")):
        pacsv.write_csv(pq.read_table(path), path.with_suffix(".csv"))
        path.unlink()
    crm_csv = csv_folder / "crm_customers.csv"
    lines = crm_csv.read_text().splitlines()
    lines.insert(2, lines[1] + f',"{PII_EMAIL}"')
    crm_csv.write_text("\n".join(lines) + "\n")
    return folders


#: numeric order-line columns a German spreadsheet writes with a decimal comma
GERMAN_DECIMAL_COLUMNS = ("quantity", "unit_price", "discount_amount", "line_amount")


def plant_german_export(raw: Path | str, out: Path | str) -> Path:
    """Copy the clean Parquet raw folder ``raw`` to ``out`` as ``;``-delimited
    CSV (every table), with the order lines' numbers written with a decimal
    comma (``12,50``), as Excel saves CSV in a German locale; returns ``out``."""
    raw, out = Path(raw), Path(out)
    _copy(raw, out)
    for path in list(out.glob("*.parquet")):
        table = pq.read_table(path)
        if path.stem == "order_lines":
            for column in GERMAN_DECIMAL_COLUMNS:
                values = [None if v is None else v.replace(".", ",") for v in table.column(column).to_pylist()]
                table = table.set_column(table.schema.get_field_index(column), column, pa.array(values, pa.string()))
        pacsv.write_csv(table, path.with_suffix(".csv"), pacsv.WriteOptions(delimiter=";"))
        path.unlink()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="microseg-damage", description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", required=True, help="clean raw folder (python -m microseg.generate ... /raw)")
    parser.add_argument("--out", required=True, help="output folder: rows/ and one folder per file-level class")
    args = parser.parse_args(argv)
    out = Path(args.out)
    plant_row_damage(args.raw, out / "rows")
    plant_file_damage(args.raw, out)
    plant_german_export(args.raw, out / "german_export")
    print(f"wrote {out / 'rows'} ({len(DAMAGES)} row-level classes) and {len(FILE_DAMAGES)} file-level folders")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
