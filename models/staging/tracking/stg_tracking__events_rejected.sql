with

rejected as (
    select * from {{ ref('base_tracking__events') }}
    where reject_reason is not null
),

final as (
    select
        {%- for column in raw_columns('events') %}
            raw_{{ column }} as {{ column }},
        {%- endfor %}
        reject_reason,
        {{ row_hash(raw_columns('events'), prefix='raw_') }} as row_hash
    from rejected
)

select * from final
