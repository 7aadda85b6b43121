{#- One row per micro-segment of the latest fit: its name, size and share of
    active customers, as segment_profiles computed them (read, not recounted:
    the share is defined once), with the as-of date of customer_segments. The
    semantic layer's segment_share metric sums this share. -#}
with

profiles as (
    select
        segment_id,
        segment_name,
        customer_count,
        customer_share
    from {{ ref('segment_profiles') }}
),

segments as (
    select
        segment_id,
        max(as_of_date) as as_of_date
    from {{ ref('customer_segments') }}
    group by segment_id
),

sizes as (
    select distinct
        segment_id,
        segment_name,
        customer_count,
        customer_share
    from profiles
),

final as (
    select
        cast(sizes.segment_id as integer) as segment_id,
        cast(sizes.segment_name as varchar) as segment_name,
        cast(segments.as_of_date as date) as as_of_date,
        cast(sizes.customer_count as bigint) as customer_count,
        cast(sizes.customer_share as double) as customer_share
    from sizes
    inner join segments on sizes.segment_id = segments.segment_id
)

select * from final
