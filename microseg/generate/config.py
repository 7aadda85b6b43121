"""Run-independent constants: calendar, id layouts, currencies, categories.

The category label table (``CATEGORY_LABELS``) is the single source of truth for
raw product-category labels; ``microseg/generate/category_labels.csv`` is written
from it (``write_reference_csvs``) and is what the dbt seed ``category_map`` is
built from. ``FX_RATES`` likewise feeds ``fx_rates.csv``.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

GENERATOR_VERSION = "0.2.0"

#: persons per chunk; every chunk gets its own PCG64 stream (SeedSequence.spawn)
CHUNK_SIZE = 50_000

DAY = 86_400
YEAR = 365.25 * DAY
HISTORY_YEARS = 3
EVENT_WINDOW_DAYS = 365
CAMPAIGN_WINDOW_DAYS = 180
CAMPAIGN_EVERY_DAYS = 14
FUTURE_DAYS = 90

#: demo exchange rates, EUR per unit of currency
FX_RATES: dict[str, float] = {"EUR": 1.0, "GBP": 1.17, "USD": 0.92}
CURRENCIES = tuple(FX_RATES)

CHANNELS = ("web", "app", "store", "marketplace")
DEVICES = ("mobile", "desktop", "tablet")
PAYMENT_METHODS = ("card", "paypal", "invoice", "klarna", "cash")

CATEGORIES = (
    "electronics",
    "fashion",
    "home",
    "beauty",
    "outdoor",
    "sports",
    "grocery",
    "books_media",
    "toys",
    "sustainable_goods",
)

#: raw labels per canonical category; the first label is the most common one.
#: Lower-cased labels never collide across categories.
CATEGORY_LABELS: dict[str, tuple[str, ...]] = {
    "electronics": ("Electronics", "ELECTRONICS", "electronics", "Elektronik"),
    "fashion": ("Fashion", "Fashion & Apparel", "fashion", "Mode"),
    "home": ("Home & Living", "home", "HOME", "Wohnen"),
    "beauty": ("Beauty", "Beauty & Care", "beauty"),
    "outdoor": ("Outdoor & Camping", "outdoor", "OUTDOOR"),
    "sports": ("Sports", "sports", "Sport & Fitness"),
    "grocery": ("Grocery", "Food & Drinks", "grocery", "Lebensmittel"),
    "books_media": ("Books & Media", "books", "BOOKS_MEDIA"),
    "toys": ("Toys", "toys", "Spielzeug"),
    "sustainable_goods": ("Sustainable Goods", "eco", "Nachhaltig", "sustainable_goods"),
}
#: labels deliberately missing from the table (dirt kind ``unmapped_category``)
UNMAPPED_LABELS = ("Gift Cards", "Sonstiges", "Misc.", "Clearance", "Bundles")

#: typical EUR unit price per category (median) and log-sd of prices
CATEGORY_PRICE_EUR = np.array([119.0, 45.0, 49.0, 22.0, 69.0, 49.0, 9.0, 16.0, 25.0, 29.0])
CATEGORY_PRICE_LOGSD = 0.45


def label_table() -> tuple[list[str], np.ndarray, np.ndarray]:
    """Flattened label table: labels, their category index and a per-label weight.

    Within a category the first label has weight 0.5 and the rest share 0.5.
    """
    labels, cats, weights = [], [], []
    for ci, cat in enumerate(CATEGORIES):
        variants = CATEGORY_LABELS[cat]
        for vi, lab in enumerate(variants):
            labels.append(lab)
            cats.append(ci)
            weights.append(0.5 if vi == 0 else 0.5 / (len(variants) - 1))
    return labels, np.array(cats), np.array(weights)


def choose_labels(rng: np.random.Generator, cat: np.ndarray) -> np.ndarray:
    """Raw label index (into ``label_table()``) for each canonical category index."""
    edges = _label_edges()
    return np.searchsorted(edges, cat + rng.random(len(cat)) * 0.999999, side="right") - 1


@cache
def _label_edges() -> np.ndarray:
    """Lower edge of every label on a line where category c covers [c, c + 1)."""
    _, lcat, lw = label_table()
    within = np.concatenate([np.cumsum(lw[lcat == c]) - lw[lcat == c] for c in range(len(CATEGORIES))])
    return lcat + within


def write_reference_csvs(folder: Path | str | None = None) -> None:
    """(Re)write category_labels.csv and fx_rates.csv next to this module."""
    folder = Path(folder) if folder else Path(__file__).parent
    labels, cats, _ = label_table()
    with open(folder / "category_labels.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["raw_label", "category"])
        for lab, ci in zip(labels, cats, strict=True):
            w.writerow([lab, CATEGORIES[ci]])
    with open(folder / "fx_rates.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["currency", "rate_to_eur"])
        for cur, rate in FX_RATES.items():
            w.writerow([cur, f"{rate:.2f}"])


def _epoch(d: dt.date) -> int:
    return int(
        (dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).total_seconds()
    )


def _years_before(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


@dataclass(frozen=True)
class Calendar:
    """All run time boundaries as UTC epoch seconds (ends exclusive)."""

    end_date: dt.date
    end: int  # first second after the data (end_date + 1 day, 00:00 UTC)
    history_start: int  # first order second (3 years)
    events_start: int  # first event second (365 days)
    campaigns_start: int  # first campaign day (180 days)
    future_end: int  # end of the future-orders truth window (90 days)

    @classmethod
    def from_end_date(cls, end_date: dt.date) -> Calendar:
        end = _epoch(end_date + dt.timedelta(days=1))
        hist = _epoch(_years_before(end_date, HISTORY_YEARS) + dt.timedelta(days=1))
        return cls(
            end_date=end_date,
            end=end,
            history_start=hist,
            events_start=end - EVENT_WINDOW_DAYS * DAY,
            campaigns_start=end - CAMPAIGN_WINDOW_DAYS * DAY,
            future_end=end + FUTURE_DAYS * DAY,
        )

    @property
    def history_start_date(self) -> dt.date:
        return dt.date(1970, 1, 1) + dt.timedelta(days=self.history_start // DAY)

    def campaign_days(self) -> np.ndarray:
        """Epoch day numbers of the email campaigns (every 14 days, last 180 days)."""
        first = self.campaigns_start // DAY
        return np.arange(first, self.end // DAY, CAMPAIGN_EVERY_DAYS, dtype=np.int64)
