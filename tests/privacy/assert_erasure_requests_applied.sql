{#- Every erasure request is applied: a request whose identifier matches
    nothing in the raw data (a typo, a crm id of another system) or that names
    no usable identifier fails the build, naming the request ids, instead of
    erasing 0 rows in silence (erasure_audit.status). With severity error (var
    microseg__erasure_unmatched_severity, default) the query itself stops and
    the list is in dbt's output line; with warn it returns one row per such
    request and dbt reports a warning. -#}
{%- set severity = var('microseg__erasure_unmatched_severity', 'error') | lower %}
{{ config(severity=severity) }}
with

not_applied as (
    select
        request_id,
        status,
        identifier_type
    from {{ ref('erasure_audit') }}
    where status <> 'applied'
),

message as (
    select
        'erasure request(s) not applied: '
        || string_agg(request_id || ' (' || status || ')', ', ' order by request_id)
        || ' -- correct the request (or set var microseg__erasure_unmatched_severity: warn)' as message_text
    from not_applied
    having count(*) > 0
),

final as (
    select
        not_applied.request_id,
        not_applied.status,
        not_applied.identifier_type,
        {%- if severity == 'error' %}
            error(message.message_text) as failure,
        {%- endif %}
        message.message_text
    from not_applied
    cross join message
)

select * from final
