with

rejected as (
    select * from {{ ref('base_shop__order_lines') }}
    where reject_reason is not null
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
