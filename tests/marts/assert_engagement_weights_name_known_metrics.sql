-- A weight on a metric the mart does not compute would be silently ignored by
-- the engagement score; fail instead. Weights must also be positive.
select
    metric,
    weight
from {{ ref('engagement_weights') }}
where
    metric not in (
        {%- for metric in engagement_score_metrics() %}
            '{{ metric }}'{{ ',' if not loop.last }}
        {%- endfor %}
    )
    or weight <= 0
