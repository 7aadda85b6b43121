{#- The identifiers that give a row its customer, in order of precedence, as
    (identifier_type, column) pairs: an event's logged-in CRM id, else its
    anonymous id; an order's CRM id, else its guest email hash. Read by the
    resolution below and by the incremental batches that rebuild the rows an
    identity change reaches (macros/incremental/). -#}
{% macro microseg_event_identifiers() -%}
    {{ return([('crm_id', 'user_crm_id'), ('anonymous_id', 'anonymous_id')]) }}
{%- endmacro %}


{% macro microseg_order_identifiers() -%}
    {{ return([('crm_id', 'customer_crm_id'), ('email_hash', 'customer_email_hash')]) }}
{%- endmacro %}


{#- The customer of a row (an event, an order) by its identifiers, the one
    definition the resolved models share: the customer of the first
    identifier of `identifiers_by` that int_customer_identifiers knows, else of
    the second, with that identifier's linked_at as identity_linked_at (a row
    is known for its customer no earlier). Rows none resolves keep
    customer_key null. Returns the rows of `rows_relation` (filtered by
    `rows_where`, before the identity joins) with those two columns added.
    `identifiers_by`: two (identifier_type, column) pairs, in order. -#}
{% macro with_resolved_customer(rows_relation, identifiers_relation, identifiers_by, rows_where=none) -%}
    {%- set (first_type, first_column), (second_type, second_column) = identifiers_by -%}
    select
        resolved_rows.*,
        coalesce(by_first.customer_key, by_second.customer_key) as customer_key,
        case when by_first.customer_key is not null then by_first.linked_at else by_second.linked_at end
            as identity_linked_at
    from (
        select * from {{ rows_relation }}
        {%- if rows_where %}
            where {{ rows_where }}
        {%- endif %}
    ) as resolved_rows
    left join {{ identifiers_relation }} as by_first
        on
            by_first.identifier_type = '{{ first_type }}'
            and resolved_rows.{{ first_column }} = by_first.identifier_value
    left join {{ identifiers_relation }} as by_second
        on
            by_second.identifier_type = '{{ second_type }}'
            and resolved_rows.{{ second_column }} = by_second.identifier_value
{%- endmacro %}


{#- Events with their customer (int_events_resolved): the customer of the
    logged-in CRM id first, else the customer the anonymous id logged in as.
    `events_where` filters the staged events before they meet the
    identifiers: an incremental batch (the behaviour models keyed by
    customer) resolves its own events only, where a filter on the resolved
    rows would resolve every event first (DuckDB keeps such a filter above
    the joins). -#}
{% macro resolved_events(events_relation, identifiers_relation, events_where=none) -%}
    select
        event_id,
        customer_key,
        identity_linked_at,
        event_type,
        event_at,
        received_at,
        anonymous_id,
        user_crm_id,
        session_id,
        platform,
        device,
        category,
        campaign_id,
        order_id,
        is_late_arriving,
        _processed_at
    from (
        {{ with_resolved_customer(
            events_relation, identifiers_relation,
            microseg_event_identifiers(), events_where
        ) }}
    ) as events
{%- endmacro %}
