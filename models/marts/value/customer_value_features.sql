{#- Point-in-time snapshots for the customer value and churn models: the
    propensity features (macro propensity_customer_features, the same
    definitions) plus the mean spend per repeat purchase day (macro
    value_repeat_spend), for every customer with a purchase, as of three dates:
    'scoring' (as_of_date), 'value_training' (as_of_date - the value horizon,
    labelled by customer_value_labels with the revenue of the horizon after it)
    and 'churn_training' (as_of_date - microseg__churn_inactive_days, labelled
    with whether the customer bought in the churn window after it). Each
    snapshot reads only rows known by its own date. A snapshot whose date is
    one of propensity_features' dates (the scoring date; the churn training
    date when microseg__churn_inactive_days is a multiple of the propensity
    horizon, 180 = 2 x 90 by default) is read from there, not recomputed: the
    same macro on the same date gives the same rows. The behaviour imports
    are materialized copies, and the customer key a UUID inside the model, as
    in the behaviour layer and in propensity_features. -#}
{%- set value_days = (var('microseg__value_horizon_months') * 365.25 / 12) | round | int %}
{%- set churn_days = var('microseg__churn_inactive_days') | int %}
{%- set snapshots = [('scoring', 0), ('value_training', value_days), ('churn_training', churn_days)] %}
{%- set propensity_kinds = {} %}
{%- for _, kind, days in propensity_snapshots() %}
    {%- do propensity_kinds.update({days: kind}) %}
{%- endfor %}
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
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

{%- if propensity_target().kind == 'event' %}
    events as materialized (
        {{ select_with_customer_key_as_uuid(ref('fct_events')) }}
    ),
{%- endif %}

{%- for kind, days_before in snapshots %}
    {%- set snapshot_date = '(select cast(as_of_date - ' ~ days_before ~ ' as date) from as_of)' %}

    {%- if days_before in propensity_kinds %}

        {{ kind }}_features as (
            select * exclude (snapshot_kind) replace ({{ customer_key_as_uuid('customer_key') }} as customer_key)
            from {{ ref('propensity_features') }}
            where
                snapshot_kind = '{{ propensity_kinds[days_before] }}'
                and feature_as_of_date = {{ snapshot_date }}
        ),
    {%- else %}

        {{ kind }}_features as (
        {{ propensity_customer_features(
            'orders', 'order_lines', 'sessions', 'email_campaigns', 'events', snapshot_date) }}
        ),
    {%- endif %}

    {{ kind }}_spend as (
        {{ value_repeat_spend('orders', snapshot_date) }}
    ),

    {{ kind }}_snapshot as (
        select
            f.*,
            s.repeat_spend_mean_eur
        from {{ kind }}_features as f
        left join {{ kind }}_spend as s on f.customer_key = s.customer_key
    ),
{%- endfor %}

final as (
    {%- for kind, days_before in snapshots %}
        select
            {{ customer_key_from_uuid('customer_key') }} as customer_key,
            '{{ kind }}' as snapshot_kind,
            * exclude (customer_key)
        from {{ kind }}_snapshot
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from final  -- noqa: AM04
