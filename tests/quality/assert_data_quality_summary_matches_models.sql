{#- data_quality_summary agrees with the models it summarizes: orphans are the
    fct_orders / fct_events rows with customer_key null, nothing staged is
    dropped on the way to the facts (fct rows = staged rows), and erased rows
    per source equal the erasure_audit totals. Returns one row per
    disagreeing figure. -#}
with

summary as not materialized (
    select * from {{ ref('data_quality_summary') }}
),

audit as (
    select
        coalesce(sum(erased_crm_rows), 0) as crm_customers,
        coalesce(sum(erased_order_rows), 0) as orders,
        coalesce(sum(erased_order_line_rows), 0) as order_lines,
        coalesce(sum(erased_event_rows), 0) as events,
        coalesce(sum(erased_third_party_rows), 0) as third_party
    from {{ ref('erasure_audit') }}
),

expected as (
    select
        'orders' as source_table,
        'orphan_rows' as figure,
        count(*) filter (where customer_key is null) as expected_value
    from {{ ref('fct_orders') }}
    union all
    select
        'events' as source_table,
        'orphan_rows' as figure,
        count(*) filter (where customer_key is null) as expected_value
    from {{ ref('fct_events') }}
    union all
    select
        'orders' as source_table,
        'staged_rows' as figure,
        count(*) as expected_value
    from {{ ref('fct_orders') }}
    union all
    select
        'events' as source_table,
        'staged_rows' as figure,
        count(*) as expected_value
    from {{ ref('fct_events') }}
    union all
    select
        unpivoted.source_table,
        'erased_rows' as figure,
        unpivoted.expected_value
    from (
        unpivot audit
        on crm_customers, orders, order_lines, events, third_party
        into name source_table value expected_value
    ) as unpivoted
),

actual as (
    {%- for figure in ['orphan_rows', 'staged_rows', 'erased_rows'] %}
        select
            source_table,
            '{{ figure }}' as figure,
            {{ figure }} as actual_value
        from summary
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        expected.source_table,
        expected.figure,
        expected.expected_value,
        actual.actual_value
    from expected
    left join actual
        on
            expected.source_table = actual.source_table
            and expected.figure = actual.figure
    where actual.actual_value is distinct from expected.expected_value
)

select * from final
