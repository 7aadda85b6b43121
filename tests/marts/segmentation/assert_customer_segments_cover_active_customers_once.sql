-- Every active customer (mart_customer_features) is in exactly one segment, and
-- customer_segments holds nobody else.
with features as (
    select customer_key from {{ ref('mart_customer_features') }}
),

segments as (
    select
        customer_key,
        count(*) as segment_rows
    from {{ ref('customer_segments') }}
    group by customer_key
)

select
    coalesce(features.customer_key, segments.customer_key) as customer_key,
    coalesce(segments.segment_rows, 0) as segment_rows,
    features.customer_key is not null as is_active
from features
full outer join segments on features.customer_key = segments.customer_key
where features.customer_key is null or coalesce(segments.segment_rows, 0) != 1
