{#- Events with their customer (int_events_resolved): the customer of the
    logged-in CRM id first, else the customer the anonymous id logged in as.
    Unresolvable events keep customer_key null. `events_where` filters the
    staged events before they meet the identifiers: an incremental batch
    (fct_events, the behaviour models keyed by customer) resolves its own
    events only, where a filter on the resolved rows would resolve every
    event first (DuckDB keeps such a filter above the joins). -#}
{% macro resolved_events(events_relation, identifiers_relation, events_where=none) -%}
    with

    events as (
        select * from {{ events_relation }}
        {%- if events_where %}
            where {{ events_where }}
        {%- endif %}
    ),

    identifiers as not materialized (
        select * from {{ identifiers_relation }}
    ),

    final as (
        select
            events.event_id,
            coalesce(by_crm_id.customer_key, by_anonymous_id.customer_key) as customer_key,
            case when by_crm_id.customer_key is not null then by_crm_id.linked_at else by_anonymous_id.linked_at end
                as identity_linked_at,
            events.event_type,
            events.event_at,
            events.received_at,
            events.anonymous_id,
            events.user_crm_id,
            events.session_id,
            events.platform,
            events.device,
            events.category,
            events.campaign_id,
            events.order_id,
            events.is_late_arriving,
            events._processed_at
        from events
        left join identifiers as by_crm_id
            on
                by_crm_id.identifier_type = 'crm_id'
                and events.user_crm_id = by_crm_id.identifier_value
        left join identifiers as by_anonymous_id
            on
                by_anonymous_id.identifier_type = 'anonymous_id'
                and events.anonymous_id = by_anonymous_id.identifier_value
    )

    select * from final
{%- endmacro %}
