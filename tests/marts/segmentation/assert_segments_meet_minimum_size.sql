-- Every segment has at least the minimum size segment_quality recorded
-- (max(microseg__segment_min_size, ceil(microseg__segment_min_share x customers))).
with sizes as (
    select
        segment_id,
        count(*) as customer_count
    from {{ ref('customer_segments') }}
    group by segment_id
),

minimum as (
    select max(min_segment_size) as min_segment_size
    from {{ ref('segment_quality') }}
)

select
    sizes.segment_id,
    sizes.customer_count,
    minimum.min_segment_size
from sizes
cross join minimum
where sizes.customer_count < minimum.min_segment_size
