{#- Point-in-time features of every customer with at least one sale on or
    before `as_of` (a SQL date expression). Reads only rows dated on or before
    `as_of`: orders by order_date, events by event date and by the date the
    collector received them (a late event is not known yet). A purchase is an
    order with at least one item sold (free items count). Amounts are gross
    sales after discount, never returns: a return is a negative line on its
    original order with no date of its own, so a return recorded on an order
    before `as_of` may have happened after it.
    `orders`, `order_lines`, `events`: relations or CTE names with the columns
    of fct_orders, stg_shop__order_lines and fct_events. The singular test
    assert_propensity_features_point_in_time calls this macro with inputs cut
    at the as-of date and requires identical rows. -#}
{% macro propensity_customer_features(orders, order_lines, events, as_of) -%}
    {%- set target = propensity_target() -%}
    with

    pit_date as (
        select cast({{ as_of }} as date) as feature_as_of_date
    ),

    pit_orders as (
        select
            o.customer_key,
            o.order_id,
            o.order_date,
            o.sales_amount_eur,
            o.discount_amount_eur,
            o.item_quantity,
            pit_date.feature_as_of_date
        from {{ orders }} as o
        cross join pit_date
        where
            o.customer_key is not null
            and o.item_quantity > 0
            and o.order_date <= pit_date.feature_as_of_date
    ),

    pit_lines as (
        select
            pit_orders.customer_key,
            pit_orders.order_id,
            pit_orders.order_date,
            pit_orders.feature_as_of_date,
            l.category
        from {{ order_lines }} as l
        inner join pit_orders on l.order_id = pit_orders.order_id
        where not l.is_return
    ),

    pit_events as (
        select
            e.customer_key,
            e.event_type,
            e.event_date,
            date_diff('day', e.event_date, pit_date.feature_as_of_date) as days_before
        from {{ events }} as e
        cross join pit_date
        where
            e.customer_key is not null
            and e.event_date <= pit_date.feature_as_of_date
            and cast(coalesce(e.received_at, e.event_at) as date) <= pit_date.feature_as_of_date
    ),

    purchase_gaps as (
        -- the gap between the last two purchase days: a slowing customer shows it before recency does
        select
            customer_key,
            max(order_date) as last_day,
            arg_max(previous_day, order_date) as previous_day
        from (
            select
                customer_key,
                order_date,
                lag(order_date) over (partition by customer_key order by order_date) as previous_day
            from (select distinct customer_key, order_date from pit_orders)
        )
        group by customer_key
    ),

    order_features as (
        select
            customer_key,
            any_value(feature_as_of_date) as feature_as_of_date,
            min(order_date) as first_purchase_date,
            max(order_date) as last_purchase_date,
            count(*) as frequency,
            count(distinct order_date) as purchase_days,
            sum(sales_amount_eur) as monetary_eur,
            sum(discount_amount_eur) as discount_amount_eur,
            sum(item_quantity) as item_quantity,
            {%- for days in [30, 90, 180, 365] %}
                count(*) filter (where order_date > feature_as_of_date - {{ days }}) as orders_{{ days }}d,
            {%- endfor %}
            coalesce(sum(sales_amount_eur) filter (where order_date > feature_as_of_date - 90), 0) as sales_90d_eur,
            coalesce(sum(sales_amount_eur) filter (where order_date > feature_as_of_date - 365), 0) as sales_365d_eur
        from pit_orders
        group by customer_key
    ),

    line_features as (
        select
            customer_key,
            count(distinct category) as category_count
            {%- if target.kind == 'category_purchase' %},
                count(distinct order_id) filter (
                    where category = '{{ target.value }}' and order_date > feature_as_of_date - 90
                ) as target_orders_90d,
                max(order_date) filter (where category = '{{ target.value }}') as last_target_date
            {%- endif %}
        from pit_lines
        group by customer_key
    ),

    event_features as (
        select
            customer_key,
            count(*) filter (where event_type = 'session_start' and days_before < 30) as sessions_30d,
            count(*) filter (where event_type = 'session_start' and days_before < 90) as sessions_90d,
            count(*) filter (where event_type = 'product_view' and days_before < 90) as product_views_90d,
            count(*) filter (where event_type = 'add_to_cart' and days_before < 90) as cart_adds_90d,
            count(*) filter (where event_type = 'checkout' and days_before < 90) as checkouts_90d,
            count(*) filter (where event_type = 'email_sent' and days_before < 90) as emails_sent_90d,
            count(*) filter (where event_type = 'email_open' and days_before < 90) as email_opens_90d,
            count(*) filter (where event_type = 'email_click' and days_before < 90) as email_clicks_90d,
            min(days_before) filter (where event_type = 'session_start') as days_since_last_session
            {%- if target.kind == 'event' %},
                count(*) filter (where event_type = '{{ target.value }}' and days_before < 90) as target_events_90d,
                min(days_before) filter (where event_type = '{{ target.value }}') as days_since_target_event
            {%- endif %}
        from pit_events
        group by customer_key
    ),

    measured as (
        select
            o.customer_key,
            o.feature_as_of_date,
            date_diff('day', o.last_purchase_date, o.feature_as_of_date) as recency_days,
            date_diff('day', o.first_purchase_date, o.feature_as_of_date) as tenure_days,
            date_diff('day', o.first_purchase_date, o.last_purchase_date) as first_to_last_days,
            o.purchase_days - 1 as repeat_purchase_days,
            o.frequency,
            cast(o.monetary_eur as double) as monetary_eur,
            cast(o.monetary_eur / o.frequency as double) as avg_order_value_eur,
            cast(o.item_quantity as double) / o.frequency as avg_items_per_order,
            cast(o.discount_amount_eur / nullif(o.monetary_eur + o.discount_amount_eur, 0) as double)
                as discount_share,
            case
                when o.purchase_days > 1
                    then date_diff('day', o.first_purchase_date, o.last_purchase_date) / (o.purchase_days - 1.0)
            end as mean_days_between_purchases,
            date_diff('day', g.previous_day, g.last_day) as last_gap_days,
            case
                when o.purchase_days > 1
                    then date_diff('day', o.last_purchase_date, o.feature_as_of_date)
                    * (o.purchase_days - 1.0) / nullif(date_diff('day', o.first_purchase_date, o.last_purchase_date), 0)
            end as recency_to_mean_gap_ratio,
            o.orders_30d,
            o.orders_90d,
            o.orders_180d,
            o.orders_365d,
            cast(o.sales_90d_eur as double) as sales_90d_eur,
            cast(o.sales_365d_eur as double) as sales_365d_eur,
            coalesce(lf.category_count, 0) as category_count,
            {#- the target's own history: null for 'purchase' (orders_90d and recency_days are it) -#}
            {%- if target.kind == 'category_purchase' %}
                coalesce(lf.target_orders_90d, 0) as target_count_90d,
                date_diff('day', lf.last_target_date, o.feature_as_of_date) as days_since_target,
            {%- elif target.kind == 'event' %}
                coalesce(ef.target_events_90d, 0) as target_count_90d,
                ef.days_since_target_event as days_since_target,
            {%- else %}
                cast(null as bigint) as target_count_90d,
                cast(null as bigint) as days_since_target,
            {%- endif %}
            {%- for col in ['sessions_30d', 'sessions_90d', 'product_views_90d', 'cart_adds_90d', 'checkouts_90d',
                            'emails_sent_90d', 'email_opens_90d', 'email_clicks_90d'] %}
                coalesce(ef.{{ col }}, 0) as {{ col }},
            {%- endfor %}
            ef.days_since_last_session
        from order_features as o
        left join purchase_gaps as g on o.customer_key = g.customer_key
        left join line_features as lf on o.customer_key = lf.customer_key
        left join event_features as ef on o.customer_key = ef.customer_key
    )

    select
        *,
        {{ quintile_score('recency_days', descending=true) }} as r_score,
        {{ quintile_score('frequency') }} as f_score,
        {{ quintile_score('monetary_eur') }} as m_score
    from measured
{%- endmacro %}
