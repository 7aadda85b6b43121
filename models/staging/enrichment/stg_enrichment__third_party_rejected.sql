with

rejected as (
    select * from {{ ref('base_enrichment__third_party') }}
    where reject_reason is not null
),

final as (
    select
        {%- for column in raw_columns('third_party') %}
            raw_{{ column }} as {{ column }},
        {%- endfor %}
        reject_reason,
        {{ row_hash(raw_columns('third_party'), prefix='raw_') }} as row_hash
    from rejected
)

select * from final
