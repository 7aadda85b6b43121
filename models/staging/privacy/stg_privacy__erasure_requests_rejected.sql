with

rejected as (
    select * from {{ ref('base_privacy__erasure_requests') }}
    where reject_reason is not null
),

final as (
    select
        {%- for column in raw_columns('erasure_requests') %}
            raw_{{ column }} as {{ column }},
        {%- endfor %}
        reject_reason,
        {{ row_hash(raw_columns('erasure_requests'), prefix='raw_') }} as row_hash
    from rejected
)

select * from final
