{#- Point-in-time feature snapshots per customer with a purchase: 'training'
    snapshots as of as_of_date - k * horizon for k = 1 ..
    microseg__propensity_training_snapshots (macro propensity_snapshots; labelled by propensity_labels
    with what happens in the horizon after each), and one 'scoring' snapshot
    as of as_of_date. Each snapshot reads only behaviour rows known by its own
    date (macro propensity_customer_features over the behaviour layer; proven
    by the singular test assert_propensity_features_point_in_time). The
    behaviour imports are materialized copies: they spill, where the
    snapshots' windows and aggregations over inlined reads ran out of memory
    at 1,000,000 persons (docs/decisions.md). Inside the model the customer key
    is a UUID, as in the behaviour layer (fct_events' text key is cast: macro
    customer_key_as_uuid, the same 128 bits as its 32 hex digits), back to
    text in the output. -#}
{%- set snapshots = propensity_snapshots() %}
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

snapshot_dates as (
    select
        {%- for name, _, days in snapshots if days > 0 %}
            cast(as_of_date - {{ days }} as date) as {{ name }}_date,
        {%- endfor %}
        as_of_date as scoring_date
    from as_of
),

orders as materialized (
    select * from {{ ref('int_behaviour__orders') }}
),

order_lines as materialized (
    select * from {{ ref('int_behaviour__order_lines') }}
),

sessions as materialized (
    select * from {{ ref('int_behaviour__sessions') }}
),

email_campaigns as materialized (
    select * from {{ ref('int_behaviour__email_campaigns') }}
),

{#- raw events only for an event target's own history -#}
{%- if propensity_target().kind == 'event' %}
    events as materialized (
        {{ select_with_customer_key_as_uuid(ref('fct_events')) }}
    ),
{%- endif %}

{#- each snapshot counts its categories from the first days (a category target reads the lines itself) -#}
{%- set category_firsts = none if propensity_target().kind == 'category_purchase' else 'category_firsts' %}
{%- if category_firsts %}

    category_firsts as materialized (
        {{ propensity_category_firsts('orders', 'order_lines') }}
    ),
{%- endif %}

{%- for name, _, _ in snapshots %}

    {{ name }} as (
    {{ propensity_customer_features(
        'orders', 'order_lines', 'sessions', 'email_campaigns', 'events',
        '(select ' ~ name ~ '_date from snapshot_dates)', category_firsts=category_firsts) }}
    ),
{%- endfor %}

final as (
    {%- for name, kind, _ in snapshots %}
        select
            {{ customer_key_from_uuid('customer_key') }} as customer_key,
            '{{ kind }}' as snapshot_kind,
            * exclude (customer_key)
        from {{ name }}
        {{- "\n        union all" if not loop.last }}
    {%- endfor %}
)

select * from final
