{#- The identity diff between runs: every identifier with its customer as of
    this run, and changed_at, the start of the run that last changed what the
    identifier gives the rows it resolves (its customer_key, its linked_at,
    its customer's signup_at). An incremental fact rebuilds the rows of the
    identifiers changed since its own last build (fct_events;
    docs/incremental.md "The customer as the unit").

    A table that reads its previous version ({{ this }}, still in place while
    the new one is written): an unchanged identifier keeps its changed_at, a
    new or changed one gets the run's start. An identifier that left the graph
    without being erased (its CRM record now rejected, say) stays as a
    tombstone, customer_key null, so the rows it resolved are rebuilt; an
    erased identifier is dropped outright (the suppression list is the only
    place it may stay), and the erased rows go with their base units. A
    customer that lost an identifier (moved, erased, out of the graph) has
    every identifier it keeps changed too: a model keyed by customer
    (int_behaviour__sessions) rebuilds that customer without the lost
    identifier's rows. In a full refresh, or on the first build, every
    identifier is new. -#}
-- depends_on: {{ ref('stg_privacy__erased_identifiers') }}
{%- set previous = none %}
{%- if execute and not flags.FULL_REFRESH %}
    {%- set previous = adapter.get_relation(this.database, this.schema, this.identifier) %}
{%- endif %}
with

identifiers as (
    select
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.customer_key,
        identifiers.linked_at,
        customers.signup_at
    from {{ ref('int_customer_identifiers') }} as identifiers
    left join {{ ref('int_customers') }} as customers on identifiers.customer_key = customers.customer_key
),

{%- if previous is none %}

    final as (
        select
            *,
            {{ microseg_processed_at() }} as changed_at
        from identifiers
    )
{%- else %}

    previous as (
        select * from {{ previous }}
    ),

    erased as (
        select
            identifier_type,
            identifier_value
        from {{ ref('stg_privacy__erased_identifiers') }}
    ),

    compared as (
        select
            coalesce(identifiers.identifier_type, previous.identifier_type) as identifier_type,
            coalesce(identifiers.identifier_value, previous.identifier_value) as identifier_value,
            identifiers.customer_key,
            identifiers.linked_at,
            identifiers.signup_at,
            case
                when
                    previous.identifier_value is not null
                    and identifiers.customer_key is not distinct from previous.customer_key
                    and identifiers.linked_at is not distinct from previous.linked_at
                    and identifiers.signup_at is not distinct from previous.signup_at
                    then previous.changed_at
                else {{ microseg_processed_at() }}
            end as changed_at
        from identifiers
        full join previous
            on
                identifiers.identifier_type = previous.identifier_type
                and identifiers.identifier_value = previous.identifier_value
    ),

    -- customers that lost an identifier (moved to another customer, erased, or out of the graph): every
    -- identifier they keep changes too, so a model keyed by customer rebuilds them (the events of the
    -- identifier they lost are gone from them)
    lost_keys as (
        select distinct previous.customer_key
        from previous
        left join identifiers
            on
                previous.identifier_type = identifiers.identifier_type
                and previous.identifier_value = identifiers.identifier_value
        where
            previous.customer_key is not null
            and identifiers.customer_key is distinct from previous.customer_key
    ),

    final as (
        select
            compared.* replace (
                case
                    when compared.customer_key in (select lost_keys.customer_key from lost_keys)
                        then {{ microseg_processed_at() }}
                    else compared.changed_at
                end as changed_at
            )
        from compared
        anti join erased
            on
                compared.identifier_type = erased.identifier_type
                and compared.identifier_value = erased.identifier_value
    )
{%- endif %}

select * from final
