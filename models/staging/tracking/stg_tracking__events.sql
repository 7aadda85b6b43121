{#- The staged events: the rows of base_tracking__events that pass every
    check and are not erased, with the category label mapped and the late
    arrival flag. A view over the base table: the events are the largest
    source, every reader needs a few columns only, and writing them a second
    time cost more than the filter and the small join per read. -#}
{{ config(materialized='view') }}
with

events as (
    select * from {{ ref('base_tracking__events') }}
    where reject_reason is null and erasure_request_id is null
),

category_map as not materialized (
    select * from {{ ref('category_map') }}
),

final as (
    select
        events.event_id,
        events.event_type,
        events.event_at,
        events.received_at,
        events.anonymous_id,
        events.user_crm_id,
        events.session_id,
        events.platform,
        events.device,
        -- no label: no category; a label the seed does not know: 'other'
        case
            when events.page_category is not null then coalesce(category_map.category, 'other')
        end as category,
        events.campaign_id,
        events.order_id,
        coalesce(
            events.received_at > events.event_at + to_hours({{ var('microseg__late_event_hours') }}),
            false
        ) as is_late_arriving,
        events._processed_at
    from events
    left join category_map on lower(trim(events.page_category)) = category_map.raw_label
)

select * from final
