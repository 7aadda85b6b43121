{#- One row per erasure request, whatever state it is in, with its status and
    what the build removed for it, per source:
      - applied: every identifier it names is in the raw data, and the walk
        started from it;
      - unmatched: an identifier it names matches nothing in the raw data
        (stg_privacy__erasure_seeds.is_matched false);
      - invalid: no row of it has a usable identifier (rejected with
        missing_identifier).
    Anything but applied fails the build (test assert_erasure_requests_applied,
    severity var microseg__erasure_unmatched_severity). A removed row is a
    distinct raw row (its exact copies are counted as duplicates in
    data_quality_summary); a row that several requests reach is counted once,
    under the lowest request_id. No identifier is kept here, only the request
    id, its type and date. -#}
{%- set sources = [
    ('crm', 'base_crm__customers'),
    ('order', 'base_shop__orders'),
    ('order_line', 'base_shop__order_lines'),
    ('event', 'base_tracking__events'),
    ('third_party', 'base_enrichment__third_party'),
] -%}
{%- set erased_identifier_types = ['crm_id', 'email_hash', 'phone_hash', 'anonymous_id', 'order_id'] -%}
with

request_rows as (
    select
        request_id,
        identifier_type,
        requested_at,
        reject_reason
    from {{ ref('base_privacy__erasure_requests') }}
    where reject_reason is null or reject_reason = 'missing_identifier'
),

seeds as (
    select * from {{ ref('stg_privacy__erasure_seeds') }}
),

erased_identifiers as (
    select * from {{ ref('stg_privacy__erased_identifiers') }}
),

requests as (
    select
        request_rows.request_id,
        case
            when bool_and(request_rows.reject_reason is not null) then 'invalid'
            when bool_or(not seeds.is_matched) then 'unmatched'
            else 'applied'
        end as status,
        case
            when count(distinct request_rows.identifier_type) > 1 then 'several'
            else min(request_rows.identifier_type)
        end as identifier_type,
        count(distinct seeds.identifier_value) as identifier_count,
        min(request_rows.requested_at) as requested_at
    from request_rows
    left join seeds on request_rows.request_id = seeds.request_id
    group by request_rows.request_id
),

erased as (
    {%- for name, base_model in sources %}
        select
            '{{ name }}' as source_name,
            erasure_request_id as request_id
        from {{ ref(base_model) }}
        where erasure_request_id is not null
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

erased_per_request as (
    select
        request_id,
        {%- for name, base_model in sources %}
            count(*) filter (where source_name = '{{ name }}') as erased_{{ name }}_rows,
        {%- endfor %}
        count(*) as erased_rows
    from erased
    group by request_id
),

reached_identifiers as (
    -- identifiers the suppression list reached from the request, beyond the one it names
    select
        request_id,
        {%- for identifier_type in erased_identifier_types %}
            count(*) filter (where identifier_type = '{{ identifier_type }}') as reached_{{ identifier_type }}_count,
        {%- endfor %}
        count(*) as reached_identifier_count
    from erased_identifiers
    where not is_requested
    group by request_id
),

final as (
    select
        requests.request_id,
        requests.status,
        requests.identifier_type,
        cast(requests.identifier_count as bigint) as identifier_count,
        requests.requested_at,
        {%- for identifier_type in erased_identifier_types %}
            cast(coalesce(reached_identifiers.reached_{{ identifier_type }}_count, 0) as bigint)
                as reached_{{ identifier_type }}_count,
        {%- endfor %}
        cast(coalesce(reached_identifiers.reached_identifier_count, 0) as bigint) as reached_identifier_count,
        {%- for name, base_model in sources %}
            cast(coalesce(erased_per_request.erased_{{ name }}_rows, 0) as bigint) as erased_{{ name }}_rows,
        {%- endfor %}
        cast(coalesce(erased_per_request.erased_rows, 0) as bigint) as erased_rows
    from requests
    left join reached_identifiers on requests.request_id = reached_identifiers.request_id
    left join erased_per_request on requests.request_id = erased_per_request.request_id
)

select * from final
