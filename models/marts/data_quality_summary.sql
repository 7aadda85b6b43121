{#- Quarantine and reconciliation across the whole flow, one row per raw
    source:

        raw_rows = staged_rows + exact_duplicate_rows + rejected_rows + erased_rows

    raw_rows is counted on the raw file itself; the other terms come from the
    staging models, so unaccounted_rows is zero only when staging neither lost
    nor invented a row. Rejected rows are split by reason code (one column per
    code of docs/data_contract.md). Orphans are staged orders and events whose
    customer cannot be resolved: kept in fct_orders / fct_events with
    customer_key null and counted here, not dropped. -#}
{%- set sources = [
    ('crm_customers', 'crm', 'stg_crm__customers', 'base_crm__customers'),
    ('orders', 'shop', 'stg_shop__orders', 'base_shop__orders'),
    ('order_lines', 'shop', 'stg_shop__order_lines', 'base_shop__order_lines'),
    ('events', 'tracking', 'stg_tracking__events', 'base_tracking__events'),
    ('third_party', 'enrichment', 'stg_enrichment__third_party', 'base_enrichment__third_party'),
    ('erasure_requests', 'privacy', 'stg_privacy__erasure_requests', 'base_privacy__erasure_requests'),
] -%}
{%- set reasons = data_quality_reject_reasons() -%}
with

counts as (
    {%- for table_name, source_name, staged_model, base_model in sources %}
        select
            '{{ table_name }}' as source_table,
            '{{ staged_model }}' as staged_model,
            (select count(*) from {{ source(source_name, table_name) }}) as raw_rows,
            (select count(*) from {{ ref(staged_model) }}) as staged_rows,
            (select coalesce(sum(exact_duplicate_count), 0) from {{ ref(base_model) }}) as exact_duplicate_rows,
            {%- if table_name == 'erasure_requests' %}
                0 as erased_rows,
            {%- else %}
                (
                    select count(*) from {{ ref(base_model) }}
                    where erasure_request_id is not null
                ) as erased_rows,
            {%- endif %}
            {%- for reason in reasons %}
                (
                    select count(*) from {{ ref(staged_model ~ '_rejected') }}
                    where reject_reason = '{{ reason }}'
                ) as rejected_{{ reason }},
            {%- endfor %}
            (select count(*) from {{ ref(staged_model ~ '_rejected') }}) as rejected_rows
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

orphans as (
    select
        'orders' as source_table,
        count(*) as orphan_rows
    from {{ ref('fct_orders') }}
    where customer_key is null
    union all
    select
        'events' as source_table,
        count(*) as orphan_rows
    from {{ ref('fct_events') }}
    where customer_key is null
),

final as (
    select
        counts.source_table,
        counts.staged_model,
        cast(counts.raw_rows as bigint) as raw_rows,
        cast(counts.staged_rows as bigint) as staged_rows,
        cast(counts.exact_duplicate_rows as bigint) as exact_duplicate_rows,
        cast(counts.rejected_rows as bigint) as rejected_rows,
        cast(counts.erased_rows as bigint) as erased_rows,
        cast(
            counts.raw_rows - counts.staged_rows - counts.exact_duplicate_rows - counts.rejected_rows
            - counts.erased_rows
            as bigint
        ) as unaccounted_rows,
        {%- for reason in reasons %}
            cast(counts.rejected_{{ reason }} as bigint) as rejected_{{ reason }},
        {%- endfor %}
        cast(orphans.orphan_rows as bigint) as orphan_rows,
        cast(round(counts.rejected_rows / nullif(counts.raw_rows, 0), 6) as double) as rejected_share,
        cast(round(orphans.orphan_rows / nullif(counts.staged_rows, 0), 6) as double) as orphan_share
    from counts
    left join orphans on counts.source_table = orphans.source_table
)

select * from final
