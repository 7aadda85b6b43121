"""Map a retailer's "online retail" export into microseg's raw contract.

    python examples/retail_export/map_to_contract.py --src data/retail_export --raw data/retail_export/raw

Reads transactions.csv (InvoiceNo, StockCode, Description, Quantity, InvoiceDate,
UnitPrice, CustomerID, Country, Department) and customers.csv (customer_id,
signup_date) and writes orders, order_lines and crm_customers as Parquet, every
column text (models/sources.yml). No events, third-party or erasure files: those
sources are optional and build empty. Each choice is one line below:

- an invoice is an order; a line's id is its invoice, "-L" and its line number
  (not "536365-1": digits and dashes only look like a phone number: pii_in_text);
- a cancellation (InvoiceNo C...) is an order of its own whose lines have
  negative quantities: staging reads them as returns;
- InvoiceDate is shop-local time without a zone: localised to Europe/London and
  written as UTC with a Z (the contract reads a timestamp without offset as UTC);
- a float-looking CustomerID ("17850.0", as spreadsheets write it) is an integer
  id; an invoice without one is a walk-in order (kept, counted as an orphan);
- Department goes through category_map.csv next to this script onto the
  canonical categories (an unmapped department stages as `other`);
- prices are GBP; line_amount = Quantity x UnitPrice; no discounts in this export;
- the CRM export has only an id and a signup date: every other CRM column is empty.
Bad values are passed through as they are: staging rejects them with a reason code.
"""

import argparse
from pathlib import Path

import pandas as pd

from microseg import contract

HERE = Path(__file__).resolve().parent
ZONE = "Europe/London"


def customer_id(values: pd.Series) -> pd.Series:
    """'17850', '17850.0' -> '17850'; blank stays ''."""
    return values.fillna("").str.strip().str.replace(r"\.0+$", "", regex=True)


def to_utc(local: pd.Series, fmt: str) -> pd.Series:
    """Shop-local text -> ISO UTC text; a value that does not parse stays as it was (staging rejects it)."""
    parsed = pd.to_datetime(local, format=fmt, errors="coerce")
    utc = parsed.dt.tz_localize(ZONE, ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert("UTC")
    return utc.dt.strftime("%Y-%m-%dT%H:%M:%SZ").where(utc.notna(), local)


def map_export(src: Path, raw: Path) -> dict[str, pd.DataFrame]:
    tx = pd.read_csv(src / "transactions.csv", dtype=str, keep_default_na=False)
    crm = pd.read_csv(src / "customers.csv", dtype=str, keep_default_na=False)
    departments = pd.read_csv(HERE / "category_map.csv", dtype=str).set_index("department")["category"]

    invoices = tx.drop_duplicates("InvoiceNo")
    orders = pd.DataFrame({
        "order_id": invoices["InvoiceNo"], "customer_ref": customer_id(invoices["CustomerID"]),
        "ordered_at": to_utc(invoices["InvoiceDate"], "%m/%d/%Y %H:%M"), "currency": "GBP",
        "channel": "web", "payment_method": "",
    })  # fmt: skip
    quantity = pd.to_numeric(tx["Quantity"], errors="coerce")
    amount = (quantity * pd.to_numeric(tx["UnitPrice"], errors="coerce")).round(2)
    lines = pd.DataFrame({
        "order_line_id": tx["InvoiceNo"] + "-L" + (tx.groupby("InvoiceNo").cumcount() + 1).astype(str),
        "order_id": tx["InvoiceNo"], "product_category": tx["Department"].map(departments).fillna(tx["Department"]),
        "quantity": tx["Quantity"], "unit_price": tx["UnitPrice"], "discount_amount": "0",
        "line_amount": amount.map("{:.2f}".format).where(amount.notna(), ""),
    })  # fmt: skip
    customers = pd.DataFrame({
        "source_system": "crm_a", "crm_id": customer_id(crm["customer_id"]),
        "signup_at": to_utc(crm["signup_date"], "%Y-%m-%d"),
    })  # fmt: skip
    tables = {"orders": orders, "order_lines": lines, "crm_customers": customers}
    raw.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame = frame.reindex(columns=contract.columns(name), fill_value="").astype(str)
        frame.to_parquet(raw / f"{name}.parquet", index=False)
    return tables


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, default=Path("data/retail_export"))
    parser.add_argument("--raw", type=Path, default=Path("data/retail_export/raw"))
    args = parser.parse_args()
    tables = map_export(args.src, args.raw)
    print(", ".join(f"{name}: {len(frame):,} rows" for name, frame in tables.items()), f"-> {args.raw}")
