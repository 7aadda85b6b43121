"""The offline visual report: one self-contained HTML file written from a built DuckDB file.

    python -m microseg.report --duckdb data/microseg.duckdb --out target/report.html

One module per section (quality, identity, rfm, segments, niches, propensity, history,
experiments); each reads the tables it needs through :class:`~microseg.report.catalog.Catalog`
and returns a :class:`~microseg.report.page.Section`, skipped with a note when its tables are
absent. :mod:`microseg.report.page` renders the sections with Plotly's JavaScript inlined, so
the file opens offline and no request leaves it; :mod:`microseg.report.browser` checks that in
headless Chromium.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from microseg.report import experiments, history, identity, niches, propensity, quality, rfm, segments
from microseg.report.catalog import Catalog
from microseg.report.page import Section, render

SECTION_BUILDERS = (quality.build, identity.build, rfm.build, segments.build, niches.build, propensity.build,
                    history.build, experiments.build)  # fmt: skip
TITLE = "microseg report"


@dataclass(frozen=True)
class ReportResult:
    """What was written: the file, its size and the sections (rendered or skipped)."""

    path: Path
    bytes: int
    sections: list[Section]

    def summary(self) -> str:
        lines = [f"report: {self.path} ({self.bytes / 1e6:.1f} MB)"]
        for s in self.sections:
            state = "skipped" if s.skipped else f"{len(s.charts)} chart(s), {len(s.tables)} table(s)"
            lines.append(f"  {s.title:<22} {state}" + (f": {s.notes[0]}" if s.skipped else ""))
        return "\n".join(lines)


def build_sections(catalog: Catalog, sample: int = 3000) -> list[Section]:
    """Every section in report order; ``sample`` caps the points of the segment map."""
    return [builder(catalog, sample=sample) if builder is segments.build else builder(catalog) for builder in SECTION_BUILDERS]


def subtitle(catalog: Catalog, db_name: str) -> str:
    as_of = None
    if catalog.has("intermediate.int_as_of_date", "as_of_date"):
        as_of = catalog.scalar("select max(as_of_date) from intermediate.int_as_of_date")
    elif catalog.has("marts.mart_customer_rfm", "as_of_date"):
        as_of = catalog.scalar("select max(as_of_date) from marts.mart_customer_rfm")
    return f"Data as of {as_of}, from {db_name}" if as_of else f"From {db_name}"


def write_report(db_path: str | Path, out_path: str | Path, sample: int = 3000) -> ReportResult:
    """Read ``db_path`` (read-only) and write the report to ``out_path``."""
    catalog = Catalog.open(db_path)
    try:
        sections = build_sections(catalog, sample=sample)
        page = render(sections, TITLE, subtitle(catalog, Path(db_path).name))
    finally:
        catalog.con.close()
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return ReportResult(path=out, bytes=out.stat().st_size, sections=sections)
