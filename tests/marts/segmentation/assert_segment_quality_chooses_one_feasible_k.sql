-- Exactly one k is chosen, and it meets the minimum segment size whenever any k does.
with chosen as (
    select
        count(*) filter (where is_chosen) as chosen_count,
        bool_or(meets_min_size) as any_feasible,
        bool_or(is_chosen and meets_min_size) as chosen_feasible
    from {{ ref('segment_quality') }}
)

select *
from chosen
where chosen_count != 1 or (any_feasible and not chosen_feasible)
