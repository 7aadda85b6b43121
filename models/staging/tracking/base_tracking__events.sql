{#- One row per distinct raw event row with its disposition: the raw text
    columns (raw_*), the number of exact copies dropped, the typed and cleaned
    columns and the reject reason. stg_tracking__events (reject_reason null) and
    stg_tracking__events_rejected (reject_reason set) are two filters of this
    table, so every distinct raw row lands in exactly one of them, unless it is
    erased: an event whose user crm id, anonymous id or order id is in
    stg_privacy__erased_identifiers is kept as a tombstone (erasure_request_id
    and the duplicate count, nothing else) and reaches neither.

    A table, not a view: every reader (staged and rejected models, quality
    summary, erasure audit, reconciliation tests) would otherwise recompute
    the de-duplication (docs/benchmarks.md). Steps and tombstones: macros/
    staging/staging_dispositions.sql. Incremental: a run rebuilds only the
    units (keys) with a row in a new raw file or newly erased, each from all
    of its raw rows, and records the files in microseg_load_manifest
    (macros/incremental/microseg_incremental.sql, docs/incremental.md). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='_unit',
    post_hook="{{ microseg_record_load(source('tracking', 'events')) }}",
) }}


{%- set event_types = [
    'session_start', 'page_view', 'product_view', 'add_to_cart', 'checkout', 'purchase', 'login',
    'email_sent', 'email_open', 'email_click',
] %}

{%- set event_id_sql = clean_text('raw_event_id') %}

with

{{ distinct_raw_rows_ctes(
    microseg_incremental_raw_rows(
        source('tracking', 'events'),
        'events',
        'event_id',
        [
            ('crm_id', 'loaded.user_crm_id'),
            ('anonymous_id', 'loaded.anonymous_id'),
            ('order_id', 'loaded.order_id'),
        ],
    ),
    'events',
    event_id_sql,
) }},

typed as (
    select
        *,
        {{ microseg_unit('events', 'event_id', prefix='raw_') }} as _unit,
        {{ microseg_processed_at() }} as _processed_at,
        {{ event_id_sql }} as event_id,
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

contained as (
    -- PII typed into a free-text attribute is emptied (flagged): the event stays
    select
        * replace (
            {{ without_pii('platform') }} as platform,
            {{ without_pii('device') }} as device,
            {{ without_pii('page_category') }} as page_category
        ),
        {{ pii_nulled_columns(['platform', 'device', 'page_category']) }} as pii_nulled_columns
    from typed
),

checked as not materialized (
    -- every check except the two key checks, in reason-code order; an email
    -- or phone number in an identifier rejects the row (an id cannot be
    -- emptied without changing whom the event belongs to)
    select
        *,
        case
            when
                {{ any_identifier_has_pii(
                    ['event_id', 'anonymous_id', 'user_crm_id', 'session_id', 'campaign_id', 'order_id']
                ) }}
                then 'pii_in_text'
            when {{ timestamp_reason('raw_event_at', 'event_at') }} is not null
                then {{ timestamp_reason('raw_event_at', 'event_at') }}
            when {{ timestamp_reason('raw_received_at', 'received_at', required=false) }} is not null
                then {{ timestamp_reason('raw_received_at', 'received_at', required=false) }}
            when
                {{ any_longer_than(
                    ['event_id', 'anonymous_id', 'user_crm_id', 'session_id', 'campaign_id', 'order_id', 'page_category'],
                    var('microseg__max_text_length')
                ) }}
                then 'out_of_range'
            when
                event_type is null
                or event_type not in (
                    {%- for event_type in event_types %}
                        '{{ event_type }}'{{ "," if not loop.last }}
                    {%- endfor %}
                )
                then 'invalid_value'
        end as check_reason
    from contained
),

dispositions as (
    {{ with_key_reject_reason(
        'checked',
        'event_id',
        'events',
        survivor_order='event_at asc nulls last',
        key_repeated='_key_repeated'
    ) }}
),

final as (
    {{ with_erasure_request_id('dispositions', [
            ('crm_id', 'dispositions.user_crm_id'),
            ('anonymous_id', 'dispositions.anonymous_id'),
            ('order_id', 'dispositions.order_id'),
        ]) }}
)

{{ without_erased_content('final', keep=['_unit', '_processed_at'], raw_table='events') }}
