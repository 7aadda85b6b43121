-- What staging could not use, per source and reason: the first thing to read
-- after pointing microseg at a new export.
{%- set sources = [
    ('crm', 'customers'), ('shop', 'orders'), ('shop', 'order_lines'),
    ('tracking', 'events'), ('enrichment', 'third_party'), ('privacy', 'erasure_requests'),
] %}
with

rejects as (
    {%- for source, entity in sources %}
        select
            '{{ source }}.{{ entity }}' as source_table,
            reject_reason,
            count(*) as rejected_rows
        from {{ ref('stg_' ~ source ~ '__' ~ entity ~ '_rejected') }}
        group by reject_reason
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from rejects
order by source_table asc, rejected_rows desc
