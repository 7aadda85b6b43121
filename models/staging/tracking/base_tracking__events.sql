{#- One row per distinct raw event row: the raw text columns (raw_*), the number
    of exact copies dropped, the typed and cleaned columns and the reject
    reason. stg_tracking__events (reject_reason null) and
    stg_tracking__events_rejected (reject_reason set) are two filters of
    this view, so every distinct raw row lands in exactly one of them, unless
    it is erased: an event of an erased crm id (user_id), or of a device
    (anonymous_id) that logged in as one, carries erasure_request_id and
    reaches neither (counted as erased).

    A view, not a table: it is wide (raw and typed columns), and writing it
    costs more than computing it twice (once per reader). -#}
{{ config(materialized='view') }}

{%- set raw_columns = raw_columns('events') %}
{%- set event_types = [
    'session_start', 'page_view', 'product_view', 'add_to_cart', 'checkout', 'purchase', 'login',
    'email_sent', 'email_open', 'email_click',
] %}

with

source as (
    select * from {{ source('tracking', 'events') }}
),

erased_identifiers as (
    select * from {{ ref('stg_privacy__erased_identifiers') }}
),

raw_rows as (
    select {{ select_raw_columns('events') }}
    from source
),

distinct_raw_rows as (
    -- exact duplicates (every raw column equal, nulls equal) collapse into one
    -- row; the copies beyond the first are counted, neither staged nor rejected
    select
        *,
        count(*) - 1 as exact_duplicate_count
    from raw_rows
    group by all
),

typed as (
    select
        *,
        {{ clean_text('raw_event_id') }} as event_id,
        lower({{ clean_text('raw_event_type') }}) as event_type,
        {{ to_utc_timestamp('raw_event_at') }} as event_at,
        {{ to_utc_timestamp('raw_received_at') }} as received_at,
        {{ clean_text('raw_anonymous_id') }} as anonymous_id,
        {{ clean_text('raw_user_id') }} as user_crm_id,
        {{ clean_text('raw_session_id') }} as session_id,
        lower({{ clean_text('raw_platform') }}) as platform,
        lower({{ clean_text('raw_device') }}) as device,
        {{ clean_text('raw_page_category') }} as page_category,
        {{ clean_text('raw_campaign_id') }} as campaign_id,
        {{ clean_text('raw_order_id') }} as order_id
    from distinct_raw_rows
),

checked as (
    -- every check except the two key checks, in reason-code order
    select
        *,
        case
            when event_at is null then 'invalid_timestamp'
            when
                event_type is null
                or event_type not in (
                    {%- for event_type in event_types %}
                        '{{ event_type }}'{{ "," if not loop.last }}
                    {%- endfor %}
                )
                then 'invalid_value'
        end as check_reason
    from typed
),

erased_anonymous_ids as (
    -- a device that logged in as an erased crm id is that person's device: its
    -- anonymous browsing goes with the login
    select
        typed.anonymous_id,
        min(erased_identifiers.request_id) as request_id
    from typed
    inner join erased_identifiers
        on
            erased_identifiers.identifier_type = 'crm_id'
            and typed.user_crm_id = erased_identifiers.identifier_value
    where typed.anonymous_id is not null
    group by typed.anonymous_id
),

colliding_keys as (
    -- ids carried by more than one distinct row: only these need ranking,
    -- which is far cheaper than sorting the whole table
    select event_id
    from checked
    where event_id is not null
    group by event_id
    having count(*) > 1
),

ranked_collisions as (
    -- among distinct rows sharing an event id keep a row that passes the
    -- checks, then the first by event_at, then the lowest row_hash (raw file
    -- order is not stable in DuckDB)
    select
        event_id,
        {{ row_hash(raw_columns, prefix='raw_') }} as row_hash,
        row_number() over (
            partition by event_id
            order by
                check_reason is null desc,
                event_at asc nulls last,
                {{ row_hash(raw_columns, prefix='raw_') }} asc
        ) as key_rank
    from checked
    where event_id in (select colliding_keys.event_id from colliding_keys)
),

kept_rows as (
    select
        event_id,
        row_hash as kept_row_hash
    from ranked_collisions
    where key_rank = 1
),

final as (
    select
        checked.*,
        case
            when checked.event_id is null then 'missing_key'
            -- the row hash is only computed for the few rows of colliding ids
            when
                kept_rows.event_id is not null
                and {{ row_hash(raw_columns, prefix='checked.raw_') }} <> kept_rows.kept_row_hash
                then 'duplicate_key'
            else checked.check_reason
        end as reject_reason,
        least(erased_crm_id.request_id, erased_anonymous_ids.request_id) as erasure_request_id
    from checked
    left join kept_rows on checked.event_id = kept_rows.event_id
    left join erased_identifiers as erased_crm_id
        on
            erased_crm_id.identifier_type = 'crm_id'
            and checked.user_crm_id = erased_crm_id.identifier_value
    left join erased_anonymous_ids on checked.anonymous_id = erased_anonymous_ids.anonymous_id
)

select * from final
