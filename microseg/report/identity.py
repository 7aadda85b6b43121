"""Identity: identifiers seen per source, the customers they resolve to, and how many customers were
formed by merging several CRM records (mart customer_identity_map)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from microseg.report.catalog import Catalog
from microseg.report.page import Chart, Section, fmt_int, style

KEY, TITLE = "identity", "Identity resolution"
MAP = "marts.customer_identity_map"
CRM_SOURCES = ("crm_a", "crm_b")
EXCLUDED = "intermediate.int_identity__excluded_identifiers"


def identifiers_per_source(catalog: Catalog) -> pd.DataFrame:
    return catalog.df(f"select source, count(*) as identifiers, count(distinct customer_key) as customers "
                      f"from {MAP} group by source order by identifiers desc, source")  # fmt: skip


def crm_records_per_customer(catalog: Catalog) -> pd.DataFrame:
    """Customers by how many CRM records they merge (0 = known only from orders or events), 3+ grouped."""
    crm = ", ".join(f"'{s}'" for s in CRM_SOURCES)
    return catalog.df(f"""
        with per_customer as (
            select customer_key, count(*) filter (where source in ({crm})) as crm_records
            from {MAP} group by customer_key
        )
        select least(crm_records, 3) as crm_records, count(*) as customers
        from per_customer group by 1 order by 1""")


def sources_chart(per_source: pd.DataFrame) -> Chart:
    fig = go.Figure(go.Bar(x=per_source["source"], y=per_source["identifiers"], name="identifiers",
                           text=per_source["identifiers"], texttemplate="%{text:,}"))  # fmt: skip
    style(fig, yaxis={"title": "identifiers"}, showlegend=False)
    return Chart("identity-sources", "Identifiers by source", fig,
                 "CRM ids, email and phone hashes and anonymous device ids, each tied to one customer.")


def merges_chart(merges: pd.DataFrame) -> Chart:
    labels = {0: "no CRM record", 1: "1 CRM record", 2: "2 records merged", 3: "3 or more merged"}
    fig = go.Figure(go.Bar(x=[labels[int(n)] for n in merges["crm_records"]], y=merges["customers"],
                           text=merges["customers"], texttemplate="%{text:,}",
                           marker_color=["#7f7f7f", "#1f77b4", "#ff7f0e", "#d62728"][: len(merges)]))  # fmt: skip
    style(fig, yaxis={"title": "customers"}, showlegend=False)
    return Chart("identity-merges", "Customers by CRM records merged", fig,
                 "A customer with two or more CRM records is one person the two CRM systems (or duplicates) held twice.")


def build(catalog: Catalog) -> Section:
    if not catalog.has(MAP, "source", "customer_key"):
        return Section.skip(KEY, TITLE, f"{MAP} is not in this database.")
    per_source = identifiers_per_source(catalog)
    if per_source.empty:
        return Section.skip(KEY, TITLE, f"{MAP} is empty.")
    merges = crm_records_per_customer(catalog)
    customers = int(merges["customers"].sum())
    merged = int(merges.loc[merges["crm_records"] >= 2, "customers"].sum())
    section = Section(KEY, TITLE, intro="Every identifier seen in any source, resolved to one customer per real person.")
    section.kpis = [("identifiers", fmt_int(per_source["identifiers"].sum())), ("customers", fmt_int(customers)),
                    ("customers merged from 2+ CRM records", fmt_int(merged)),
                    ("identifiers per customer", f"{per_source['identifiers'].sum() / customers:.2f}")]  # fmt: skip
    if catalog.has(EXCLUDED):
        excluded = catalog.scalar(f"select count(*) from {EXCLUDED}")
        section.kpis.append(("identifiers excluded by the guard", fmt_int(excluded)))
    section.charts += [sources_chart(per_source), merges_chart(merges)]
    return section
