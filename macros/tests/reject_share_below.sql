{#- Declared on a staged model: the share of the raw source's rows that
    staging rejected stays at or below var microseg__max_reject_share. A source
    past it is not data with a few bad rows but a file read wrongly (a `;`
    export with decimal commas, dates in another format, the wrong table), so
    the build stops here, before identity, marts and the ML models run on the
    few rows left, with ONE line naming the source, its share and its top three
    reason codes:

        source order_lines: 98.0% of 1200 raw rows rejected (above microseg__max_reject_share 0.5);
        top reasons: invalid_number 1176, missing_key 0 ...; read staging.stg_shop__order_lines_rejected

    The line is raised once the rejected model is built (dbt build compiles a
    test just before running it); the SQL below returns the same verdict as a
    row, so the test also fails where the line cannot be raised (dbt compile
    before a build, store_failures). -#}
{% test reject_share_below(model, source_relation, rejected_model) %}
{%- set threshold = var('microseg__max_reject_share') -%}
{%- if execute and load_relation(rejected_model) is not none -%}
    {%- set shares = run_query(
        "select (select count(*) from " ~ source_relation ~ ") as raw_rows, "
        ~ "(select count(*) from " ~ rejected_model ~ ") as rejected_rows"
    ) -%}
    {%- set raw_rows = shares.columns[0].values()[0] -%}
    {%- set rejected_rows = shares.columns[1].values()[0] -%}
    {%- if raw_rows > 0 and rejected_rows / raw_rows > threshold -%}
        {%- set top = run_query(
            "select reject_reason, count(*) as n from " ~ rejected_model
            ~ " group by 1 order by n desc, reject_reason limit 3"
        ) -%}
        {%- set reasons = [] -%}
        {%- for row in top.rows -%}
            {%- do reasons.append(row[0] ~ ' ' ~ row[1]) -%}
        {%- endfor -%}
        {{ exceptions.raise_compiler_error(
            "source " ~ source_relation.identifier ~ ": "
            ~ "%.1f" | format(100.0 * rejected_rows / raw_rows) ~ "% of " ~ raw_rows ~ " raw rows rejected"
            ~ " (above microseg__max_reject_share " ~ threshold ~ "); top reasons: " ~ reasons | join(', ')
            ~ "; read " ~ rejected_model.schema ~ "." ~ rejected_model.identifier ~ " (a wrong delimiter, decimal commas or another date format?"
            ~ " run make check-raw)"
        ) }}
    {%- endif -%}
{%- endif -%}

with shares as (
    select
        (select count(*) from {{ source_relation }}) as raw_rows,
        (select count(*) from {{ rejected_model }}) as rejected_rows
)

select
    raw_rows,
    rejected_rows,
    rejected_rows / raw_rows as rejected_share
from shares
where raw_rows > 0 and rejected_rows / raw_rows > {{ threshold }}

{% endtest %}
