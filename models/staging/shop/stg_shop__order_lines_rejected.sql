with

rejected as (
    select * from {{ ref('base_shop__order_lines') }}
    -- erased rows are removed, not quarantined: the rejects keep raw PII
    where reject_reason is not null and erasure_request_id is null
),

final as (
    select
        {%- for column in raw_columns('order_lines') %}
            raw_{{ column }} as {{ column }},
        {%- endfor %}
        reject_reason,
        {{ row_hash(raw_columns('order_lines'), prefix='raw_') }} as row_hash
    from rejected
)

select * from final
