"""A second, independently shaped dataset: a grocery-and-goods retailer's export
in the widely used "online retail" layout, for examples/retail_export.

    python -m microseg.generate.retail_export --customers 1500 --seed 7 --out data/retail_export

writes two files a retailer hands over, in its own shape, not the raw contract:

- ``transactions.csv``: one row per invoice line, columns InvoiceNo, StockCode,
  Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country, Department.
  Invoice and customer ids are numbers; goods sold by weight have fractional
  quantities (kg); a cancellation is an invoice ``C<number>`` repeating lines of
  an earlier invoice with negative quantities; InvoiceDate is shop-local time
  (Europe/London) without a zone, ``m/d/yyyy h:mm``; walk-in invoices have no
  CustomerID; prices in GBP; about 40 departments.
- ``customers.csv``: a CRM export with only ``customer_id`` and ``signup_date``
  (no name, email or phone).

Customers buy at their own rate (gamma), stop at their own time (exponential
lifetime) and favour a few departments (Dirichlet), so recency, frequency and
basket mix vary as segmentation and propensity need. Deterministic for a seed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

START = pd.Timestamp("2022-01-03")
END = pd.Timestamp("2023-12-22")
COUNTRIES = ("United Kingdom",) * 17 + ("Ireland", "France", "Germany")

#: department -> (base unit price in GBP, sold by weight)
DEPARTMENTS: dict[str, tuple[float, bool]] = {
    "Fruit & Veg": (2.2, True), "Butcher": (9.5, True), "Fish Counter": (14.0, True), "Deli": (18.0, True),
    "Cheese Counter": (16.0, True), "Bulk Nuts & Grains": (7.5, True), "Bakery": (2.4, False),
    "Dairy": (1.6, False), "Frozen": (3.8, False), "Pantry": (2.1, False), "Beverages": (2.9, False),
    "Wine & Spirits": (11.0, False), "Snacks": (1.8, False), "Baby": (6.5, False), "Pet Supplies": (8.0, False),
    "Health & Pharmacy": (5.5, False), "Cosmetics": (12.0, False), "Skincare": (15.0, False),
    "Fragrance": (38.0, False), "Household Cleaning": (3.2, False), "Kitchenware": (14.0, False),
    "Tableware": (9.0, False), "Bedding": (28.0, False), "Bath Linen": (16.0, False), "Lighting": (22.0, False),
    "Home Decor": (12.5, False), "Garden": (18.0, False), "DIY & Tools": (21.0, False), "Camping": (35.0, False),
    "Cycling": (29.0, False), "Fitness": (24.0, False), "Team Sports": (19.0, False),
    "Womenswear": (27.0, False), "Menswear": (26.0, False), "Kidswear": (14.0, False), "Footwear": (45.0, False),
    "Accessories": (11.0, False), "Phones & Tablets": (180.0, False), "Audio": (55.0, False),
    "Computing": (240.0, False), "Toys & Games": (17.0, False), "Books & Stationery": (7.0, False),
}  # fmt: skip


def generate(customers: int = 1500, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(transactions, customers) frames in the retailer's layout, all text."""
    rng = np.random.default_rng(seed)
    depts = list(DEPARTMENTS)
    span = (END - START).days
    ids = rng.choice(np.arange(12000, 19000), size=customers, replace=False)
    # days since START; signups start before the data does
    signup = rng.integers(-400, int(span * 0.8), customers)
    rate = rng.gamma(1.3, 3.5, customers)  # invoices per year
    lifetime = rng.exponential(500, customers)  # days from first purchase until the customer stops
    first = np.maximum(signup, 0) + rng.integers(0, 60, customers)
    active_days = np.maximum(np.minimum(first + lifetime, span) - first, 1)
    n_invoices = np.maximum(rng.poisson(rate * active_days / 365), 1)
    owner = np.repeat(np.arange(customers), n_invoices)
    # walk-in shoppers without a loyalty card: invoices without a customer
    walk_ins = len(owner) // 10
    day = np.concatenate([first[owner] + rng.random(len(owner)) * active_days[owner], rng.random(walk_ins) * span])
    when = START + pd.to_timedelta(np.floor(np.minimum(day, span)), unit="D")
    when = when + pd.to_timedelta(rng.integers(8 * 60, 20 * 60, len(when)), unit="m")
    customer = np.concatenate([ids[owner].astype(str), np.full(walk_ins, "")])
    taste = rng.dirichlet(np.full(len(depts), 0.3), customers)
    taste = np.vstack([taste, np.full((1, len(depts)), 1 / len(depts))])
    taste_row = np.concatenate([owner, np.full(walk_ins, customers)])
    order = np.argsort(when.to_numpy(), kind="stable")
    invoices = pd.DataFrame({"InvoiceNo": (536365 + np.arange(len(order))).astype(str),
                             "InvoiceDate": when[order], "CustomerID": customer[order], "taste": taste_row[order]})
    invoices["Country"] = rng.choice(COUNTRIES, len(invoices))
    n_lines = rng.integers(1, 9, len(invoices))
    lines = invoices.loc[invoices.index.repeat(n_lines)].reset_index(drop=True)
    cumulative = taste.cumsum(axis=1)[lines["taste"].to_numpy()]
    dept = np.minimum((cumulative < rng.random((len(lines), 1))).sum(axis=1), len(depts) - 1)
    base = np.array([DEPARTMENTS[d][0] for d in depts])[dept]
    by_weight = np.array([DEPARTMENTS[d][1] for d in depts])[dept]
    lines["Department"] = np.array(depts)[dept]
    lines["StockCode"] = (20000 + dept * 100 + rng.integers(0, 60, len(lines))).astype(str)
    lines["Description"] = np.char.upper(lines["Department"].to_numpy().astype(str)) + " ITEM " + lines["StockCode"]
    lines["UnitPrice"] = np.round(base * rng.lognormal(0, 0.35, len(lines)), 2).clip(0.1)
    lines["Quantity"] = np.where(by_weight, np.round(rng.uniform(0.15, 2.5, len(lines)), 3),
                                 rng.geometric(0.45, len(lines)).astype(float))
    # about 2% of invoices with a customer are cancelled days later: invoice C<number>, negative quantities
    cancelled = invoices.index[(invoices["CustomerID"] != "") & (rng.random(len(invoices)) < 0.02)]
    cancel = lines[lines["InvoiceNo"].isin(invoices.loc[cancelled, "InvoiceNo"])].copy()
    cancel["Quantity"] = -cancel["Quantity"]
    cancel["InvoiceDate"] = cancel["InvoiceDate"] + pd.to_timedelta(rng.integers(1, 10, len(cancel)), unit="D")
    cancel["InvoiceDate"] = cancel["InvoiceDate"].clip(upper=END)
    cancel["InvoiceNo"] = "C" + cancel["InvoiceNo"]
    out = pd.concat([lines, cancel], ignore_index=True)
    out["InvoiceDate"] = [f"{t.month}/{t.day}/{t.year} {t.hour}:{t.minute:02d}" for t in out["InvoiceDate"]]
    out["Quantity"] = out["Quantity"].map(lambda q: f"{q:g}")
    out["UnitPrice"] = out["UnitPrice"].map("{:.2f}".format)
    columns = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID",
               "Country", "Department"]
    signup_date = (START + pd.to_timedelta(signup, unit="D")).strftime("%Y-%m-%d")
    crm = pd.DataFrame({"customer_id": ids.astype(str), "signup_date": signup_date})
    return out[columns], crm


def write(out: Path | str, customers: int = 1500, seed: int = 7) -> Path:
    """Write transactions.csv and customers.csv into ``out``; returns ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    transactions, crm = generate(customers, seed)
    transactions.to_csv(out / "transactions.csv", index=False)
    crm.to_csv(out / "customers.csv", index=False)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("data/retail_export"))
    args = parser.parse_args(argv)
    out = write(args.out, args.customers, args.seed)
    print(f"wrote {out / 'transactions.csv'} and {out / 'customers.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
