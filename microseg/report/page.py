"""The report's building blocks (sections of charts, tables, key figures and notes) and the one
self-contained HTML page they render to: Plotly's JavaScript inlined once, CSS inline, system fonts,
no URL the browser would fetch."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

# Plotly's default font list starts with "Open Sans", which is not fetched but may be missing; the
# report names fonts every system has instead. Colours: one qualitative palette for every chart.
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173"]  # fmt: skip
# no Plotly logo link and no "send to Chart Studio" button: nothing in the page points outside it
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "modeBarButtonsToRemove": ["sendDataToCloud"]}  # fmt: skip


@dataclass
class Chart:
    """One Plotly figure with a key (unique in the report), a title and a one-line reading guide."""

    key: str
    title: str
    figure: go.Figure
    caption: str = ""
    wide: bool = False  # spans the full width of the section instead of one grid column

    def trace_points(self) -> int:
        """Data points over all traces (x, values or z entries): a chart with none has nothing to show."""
        total = 0
        for trace in self.figure.data:
            for attr in ("x", "values", "z", "node"):
                value = getattr(trace, attr, None) if attr in trace else None
                if value is not None:
                    total += len(value) if attr != "node" else len(value.label or ())
                    break
        return total


@dataclass
class Table:
    title: str
    frame: pd.DataFrame
    caption: str = ""


@dataclass
class Section:
    """A part of the report. ``skipped`` sections render their notes only (their tables are absent)."""

    key: str
    title: str
    intro: str = ""
    kpis: list[tuple[str, str]] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: bool = False

    @classmethod
    def skip(cls, key: str, title: str, note: str) -> Section:
        return cls(key=key, title=title, notes=[note], skipped=True)


def style(fig: go.Figure, height: int = 380, **layout) -> go.Figure:
    """The report's common layout (system font, white background, compact margins); ``layout`` overrides it."""
    defaults = {"font": {"family": FONT, "size": 13}, "template": "plotly_white", "height": height, "colorway": PALETTE,
                "margin": {"l": 60, "r": 20, "t": 30, "b": 50}, "legend": {"orientation": "h", "y": -0.2}}  # fmt: skip
    fig.update_layout(**{**defaults, **layout})
    return fig


def fmt_int(value) -> str:
    return "-" if value is None or pd.isna(value) else f"{int(value):,}"


def fmt_pct(value, digits: int = 1) -> str:
    return "-" if value is None or pd.isna(value) else f"{100 * float(value):.{digits}f}%"


_CSS = """
body{font-family:%(font)s;margin:0;color:#1d2630;background:#f6f7f9}
header{background:#1d2630;color:#fff;padding:18px 32px}
header h1{margin:0 0 4px;font-size:24px} header p{margin:0;color:#c9d1d9}
nav{background:#fff;border-bottom:1px solid #dde1e6;padding:8px 32px;position:sticky;top:0;z-index:5}
nav a{margin-right:16px;color:#0b5cad;text-decoration:none;font-size:14px}
nav a.skipped{color:#8a939c}
main{padding:8px 32px 40px;max-width:1280px}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:16px 24px;margin:18px 0}
section h2{margin:0 0 6px;font-size:20px} .intro{color:#3d4751;margin:0 0 10px}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:10px 0}
.kpi{border:1px solid #dde1e6;border-radius:6px;padding:8px 14px;min-width:140px}
.kpi b{display:block;font-size:20px} .kpi span{color:#5b6670;font-size:13px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px}
figure{margin:0} figure.wide{grid-column:1/-1} figure h3{font-size:15px;margin:8px 0 2px} figcaption{color:#5b6670;font-size:13px}
.note{background:#fff8e1;border-left:4px solid #f2b600;padding:6px 12px;margin:8px 0;font-size:14px}
table{border-collapse:collapse;font-size:13px;margin:6px 0 12px} th,td{border-bottom:1px solid #e6e9ed;
padding:4px 8px;text-align:left;vertical-align:top} th{background:#f0f2f5}
.table-wrap{overflow-x:auto}
""" % {"font": FONT}


def _chart_html(chart: Chart) -> str:
    div = chart.figure.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{chart.key}",
                               config=PLOTLY_CONFIG, include_mathjax=False)  # fmt: skip
    caption = f"<figcaption>{html.escape(chart.caption)}</figcaption>" if chart.caption else ""
    wide = " wide" if chart.wide else ""
    return (f'<figure class="chart{wide}" data-chart="{html.escape(chart.key)}" data-points="{chart.trace_points()}">'
            f"<h3>{html.escape(chart.title)}</h3>{div}{caption}</figure>")


def _table_html(table: Table) -> str:
    body = table.frame.to_html(index=False, escape=True, border=0, na_rep="-")
    caption = f"<figcaption>{html.escape(table.caption)}</figcaption>" if table.caption else ""
    return f'<figure class="table"><h3>{html.escape(table.title)}</h3><div class="table-wrap">{body}</div>{caption}</figure>'


def _section_html(section: Section) -> str:
    parts = [f'<section id="{html.escape(section.key)}" data-section="{html.escape(section.key)}"'
             f' data-skipped="{str(section.skipped).lower()}"><h2>{html.escape(section.title)}</h2>']  # fmt: skip
    if section.intro:
        parts.append(f'<p class="intro">{html.escape(section.intro)}</p>')
    if section.kpis:
        cards = "".join(f'<div class="kpi"><b>{html.escape(v)}</b><span>{html.escape(k)}</span></div>'
                        for k, v in section.kpis)  # fmt: skip
        parts.append(f'<div class="kpis">{cards}</div>')
    parts += [f'<p class="note">{html.escape(n)}</p>' for n in section.notes]
    if section.charts:
        parts.append('<div class="grid">' + "".join(_chart_html(c) for c in section.charts) + "</div>")
    parts += [_table_html(t) for t in section.tables]
    parts.append("</section>")
    return "".join(parts)


def render(sections: list[Section], title: str, subtitle: str) -> str:
    """The whole page as one string: Plotly's JavaScript inlined in the head, then every section."""
    nav = "".join(f'<a href="#{html.escape(s.key)}"{" class=skipped" if s.skipped else ""}>{html.escape(s.title)}</a>'
                  for s in sections)  # fmt: skip
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # the page may run its own inline scripts and nothing else: no request can leave it
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:\">"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>'
        f"<header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header>"
        f"<nav>{nav}</nav><main>{''.join(_section_html(s) for s in sections)}</main></body></html>"
    )
