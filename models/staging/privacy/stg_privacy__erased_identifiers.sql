{#- The suppression list (GDPR art. 17): every identifier of a person who asked
    to be erased, one row per identifier, with the request that reached it
    (the lowest request_id when several did). The base_* models look every row
    up here and keep an erased row only as a tombstone.

    Every staged erasure request is honoured, whatever its date. A request
    names one email or crm id; the person is found the way identity resolution
    finds a customer, over every raw row (rejected rows included, since they
    are kept in quarantine):

    1. nodes: crm ids, email and phone hashes, anonymous ids, order ids;
    2. deterministic edges: a CRM record to its email and phone; a device to
       the crm id it logged in as; a purchase event's device to its order; an
       order to its customer's crm id or guest email;
    3. a breadth-first walk over those edges (macro erasure_walk, at most var
       microseg__erasure_max_hops steps), starting from the requested
       identifiers; the giant-component guard of identity
       (macro identifier_exclusions: an email, phone or device on more than
       var microseg__identity_max_records_per_identifier CRM records, or on
       records that cannot be one person) stops the walk: such a shared
       identifier is neither erased nor followed, unless it is the requested
       one;
    4. fuzzy CRM matches of the reached records (macro crm_fuzzy_matches,
       same threshold as identity), then a second walk from the matched
       records the first walk had not reached.

    Holds crm ids, order ids, anonymous ids and salted hashes, never a raw
    email or phone. It is the only model that holds erased identifiers, and
    must: it is what the build filters on. -#}
{%- set max_hops = var('microseg__erasure_max_hops') %}
with

requests as (
    select * from {{ ref('stg_privacy__erasure_requests') }}
),

raw_crm as (
    select distinct
        {{ clean_text('cast(crm_id as varchar)') }} as crm_customer_id,
        lower({{ clean_text('cast(source_system as varchar)') }}) as source_system,
        {{ hash_pii(normalize_email('cast(email as varchar)')) }} as email_hash,
        {{ hash_pii(normalize_phone('cast(phone as varchar)')) }} as phone_hash,
        {{ clean_name('cast(first_name as varchar)') }} as first_name_clean,
        {{ clean_name('cast(last_name as varchar)') }} as last_name_clean,
        {{ parse_birth_date('cast(birth_date as varchar)') }} as birth_date,
        year({{ parse_birth_date('cast(birth_date as varchar)') }}) as birth_year,
        {{ title_case('cast(city as varchar)') }} as city,
        {{ clean_text('cast(postcode as varchar)') }} as postcode
    from {{ source('crm', 'crm_customers') }}
),

crm_records as materialized (
    select * from raw_crm
    where crm_customer_id is not null
),

raw_orders as materialized (
    select distinct
        {{ clean_text('cast(order_id as varchar)') }} as order_id,
        case
            when not contains({{ clean_text('cast(customer_ref as varchar)') }}, '@')
                then {{ clean_text('cast(customer_ref as varchar)') }}
        end as customer_crm_id,
        case
            when contains({{ clean_text('cast(customer_ref as varchar)') }}, '@')
                then {{ hash_pii(normalize_email('cast(customer_ref as varchar)')) }}
        end as customer_email_hash
    from {{ source('shop', 'orders') }}
),

raw_device_events as materialized (
    -- logins and the events after them carry the crm id; purchases the order id
    select distinct
        {{ clean_text('cast(anonymous_id as varchar)') }} as anonymous_id,
        {{ clean_text('cast(user_id as varchar)') }} as user_crm_id,
        case
            when lower({{ clean_text('cast(event_type as varchar)') }}) = 'purchase'
                then {{ clean_text('cast(order_id as varchar)') }}
        end as order_id
    from {{ source('tracking', 'events') }}
    where
        {{ clean_text('cast(anonymous_id as varchar)') }} is not null
        and (
            {{ clean_text('cast(user_id as varchar)') }} is not null
            or lower({{ clean_text('cast(event_type as varchar)') }}) = 'purchase'
        )
),

-- the guard: which emails, phones and devices identity would not follow.
-- Every CTE read more than once is materialized: inlined, DuckDB recomputed
-- them at each step of the walk
record_links as materialized (
    select
        crm_customer_id as record_id,
        'email' as identifier_source,
        email_hash as identifier_id
    from crm_records
    where email_hash is not null
    union
    select
        crm_customer_id as record_id,
        'phone' as identifier_source,
        phone_hash as identifier_id
    from crm_records
    where phone_hash is not null
    union
    select
        user_crm_id as record_id,
        'anonymous_id' as identifier_source,
        anonymous_id as identifier_id
    from raw_device_events
    where user_crm_id is not null
    union
    select
        raw_orders.customer_crm_id as record_id,
        'anonymous_id' as identifier_source,
        raw_device_events.anonymous_id as identifier_id
    from raw_device_events
    inner join raw_orders on raw_device_events.order_id = raw_orders.order_id
    where raw_orders.customer_crm_id is not null
),

guard_records as materialized (
    select
        crm_customer_id,
        any_value(first_name_clean) as first_name_clean,
        any_value(birth_date) as birth_date
    from crm_records
    group by crm_customer_id
),

shared_identifiers as materialized (
    select
        case identifier_source
            when 'email' then 'email_hash'
            when 'phone' then 'phone_hash'
            else identifier_source
        end as node_type,
        identifier_id as node_value
    from ({{ identifier_exclusions('record_links', 'guard_records') }}) as excluded
),

one_way_edges as (
    -- every deterministic link in one direction; duplicates are harmless (each
    -- step of the walk is distinct) and cheaper than a union per step
    select
        'crm_id' as node_type,
        crm_customer_id as node_value,
        'email_hash' as next_type,
        email_hash as next_value
    from crm_records
    where email_hash is not null
    union all
    select
        'crm_id' as node_type,
        crm_customer_id as node_value,
        'phone_hash' as next_type,
        phone_hash as next_value
    from crm_records
    where phone_hash is not null
    union all
    select
        'anonymous_id' as node_type,
        anonymous_id as node_value,
        'crm_id' as next_type,
        user_crm_id as next_value
    from raw_device_events
    where user_crm_id is not null
    union all
    select
        'anonymous_id' as node_type,
        anonymous_id as node_value,
        'order_id' as next_type,
        order_id as next_value
    from raw_device_events
    where order_id is not null
    union all
    select
        'order_id' as node_type,
        order_id as node_value,
        'crm_id' as next_type,
        customer_crm_id as next_value
    from raw_orders
    where order_id is not null and customer_crm_id is not null
    union all
    select
        'order_id' as node_type,
        order_id as node_value,
        'email_hash' as next_type,
        customer_email_hash as next_value
    from raw_orders
    where order_id is not null and customer_email_hash is not null
),

edges as (
    -- undirected: each link in both directions
    select
        node_type,
        node_value,
        next_type,
        next_value
    from one_way_edges
    union all
    select
        next_type as node_type,
        next_value as node_value,
        node_type as next_type,
        node_value as next_value
    from one_way_edges
),

requested as (
    select
        case identifier_type when 'email' then 'email_hash' else identifier_type end as node_type,
        identifier_hash as node_value,
        request_id
    from requests
),

first_walk as materialized (
    {{ erasure_walk('requested', 'edges', 'shared_identifiers', max_hops) }}
),

reached_crm_ids as materialized (
    select distinct node_value as crm_customer_id
    from first_walk
    where node_type = 'crm_id'
),

fuzzy_matches as materialized (
    {{ crm_fuzzy_matches('crm_records', 'reached_crm_ids') }}
),

fuzzy_seeds as materialized (
    -- a record that fuzzy-matches a reached record is the same person
    select
        'crm_id' as node_type,
        fuzzy_matches.right_id as node_value,
        first_walk.request_id
    from fuzzy_matches
    inner join first_walk
        on
            first_walk.node_type = 'crm_id'
            and fuzzy_matches.left_id = first_walk.node_value
    where fuzzy_matches.is_match
    union
    select
        'crm_id' as node_type,
        fuzzy_matches.left_id as node_value,
        first_walk.request_id
    from fuzzy_matches
    inner join first_walk
        on
            first_walk.node_type = 'crm_id'
            and fuzzy_matches.right_id = first_walk.node_value
    where fuzzy_matches.is_match
),

second_walk_seeds as materialized (
    -- the first walk is closed: only records it has not reached walk again
    select
        fuzzy_seeds.node_type,
        fuzzy_seeds.node_value,
        fuzzy_seeds.request_id
    from fuzzy_seeds
    left join first_walk
        on
            fuzzy_seeds.node_type = first_walk.node_type
            and fuzzy_seeds.node_value = first_walk.node_value
            and fuzzy_seeds.request_id = first_walk.request_id
    where first_walk.node_value is null
),

second_walk as materialized (
    {{ erasure_walk('second_walk_seeds', 'edges', 'shared_identifiers', max_hops, known='first_walk') }}
),

walked as (
    select * from first_walk
    union all
    select * from second_walk
),

final as (
    select
        walked.node_type as identifier_type,
        walked.node_value as identifier_value,
        min(walked.request_id) as request_id,
        bool_or(requested.node_value is not null) as is_requested,
        min(walked.hops) as hops
    from walked
    left join requested
        on
            walked.node_type = requested.node_type
            and walked.node_value = requested.node_value
            and walked.request_id = requested.request_id
    group by walked.node_type, walked.node_value
)

select * from final
