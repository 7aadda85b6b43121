{#- Customers known by their browsing or email behaviour who had not bought by
    the snapshot date, with point-in-time behaviour features (macro
    behaviour_metrics, the definitions of the engagement and propensity
    features) and the label: a first purchase in (snapshot date, + microseg__propensity_horizon_days].
    'training' as of as_of_date - horizon (labelled), 'scoring' as of
    as_of_date (label only in a backtest). Customers with no session and no
    email campaign by the date have nothing to score on and are absent. -#}
{%- set horizon = var('microseg__propensity_horizon_days') | int %}
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

orders as not materialized (
    select * from {{ ref('int_behaviour__orders') }}
),

sessions as not materialized (
    select * from {{ ref('int_behaviour__sessions') }}
),

email_campaigns as not materialized (
    select * from {{ ref('int_behaviour__email_campaigns') }}
),

data_end as (
    select max(order_date) as data_end_date
    from orders
    where order_date <= current_date
),

{%- for kind, days_before in [('training', horizon), ('scoring', 0)] %}
    {%- set pit = '(select cast(as_of_date - ' ~ days_before ~ ' as date) from as_of)' %}

    {{ kind }}_sessions as (
        {{ behaviour_metrics('sessions', pit, [30, 90], 'sessions',
                             only=['sessions', 'product_views', 'cart_adds', 'checkouts']) }}
    ),

    {{ kind }}_session_history as (
        {{ behaviour_metrics('sessions', pit, [none], 'sessions', only=['sessions', 'last_session_date']) }}
    ),

    {{ kind }}_emails as (
        {{ behaviour_metrics('email_campaigns', pit, [90], 'email_campaigns') }}
    ),

    {{ kind }}_buyers as (
        select distinct customer_key
        from orders
        where
            customer_key is not null and item_quantity > 0
            and order_date <= {{ pit }} and known_date <= {{ pit }}
    ),

    {{ kind }}_first_purchases as (
        select
            customer_key,
            min(order_date) as first_purchase_date
        from orders
        where customer_key is not null and item_quantity > 0 and order_date > {{ pit }}
        group by customer_key
    ),

    {{ kind }}_snapshot as (
        select
            people.customer_key,
            '{{ kind }}' as snapshot_kind,
            {{ pit }} as feature_as_of_date,
            coalesce(s.sessions_30d, 0) as sessions_30d,
            coalesce(s.sessions_90d, 0) as sessions_90d,
            coalesce(s.product_views_90d, 0) as product_views_90d,
            coalesce(s.cart_adds_90d, 0) as cart_adds_90d,
            coalesce(s.checkouts_90d, 0) as checkouts_90d,
            coalesce(h.sessions, 0) as sessions_total,
            date_diff('day', h.last_session_date, {{ pit }}) as days_since_last_session,
            coalesce(e.emails_sent_90d, 0) as emails_sent_90d,
            coalesce(e.emails_opened_90d, 0) as email_opens_90d,
            coalesce(e.emails_clicked_90d, 0) as email_clicks_90d,
            coalesce(data_end.data_end_date >= {{ pit }} + {{ horizon }}, false) as is_label_complete,
            case
                when data_end.data_end_date >= {{ pit }} + {{ horizon }}
                    then coalesce(f.first_purchase_date <= {{ pit }} + {{ horizon }}, false)
            end as is_first_purchase
        from (
            select customer_key from {{ kind }}_session_history
            union
            select customer_key from {{ kind }}_emails
        ) as people
        cross join data_end
        left join {{ kind }}_sessions as s on people.customer_key = s.customer_key
        left join {{ kind }}_session_history as h on people.customer_key = h.customer_key
        left join {{ kind }}_emails as e on people.customer_key = e.customer_key
        left join {{ kind }}_first_purchases as f on people.customer_key = f.customer_key
        where people.customer_key not in (select b.customer_key from {{ kind }}_buyers as b)
    ),
{%- endfor %}

unioned as (
    select * from training_snapshot
    union all
    select * from scoring_snapshot
),

final as (
    {{ select_with_customer_key_as_text('unioned') }}
)

select * from final
