{#- Point-in-time features of every customer with at least one sale on or
    before `as_of` (a SQL date expression). Reads only rows dated on or before
    `as_of`: orders by order_date and known_date (identity link), events by
    event date and by the date the collector received them (a late event is not known yet). A purchase is an
    order with at least one item sold (free items count). Amounts are gross
    sales after discount, never returns: a return is a negative line on its
    original order with no date of its own, so a return recorded on an order
    before `as_of` may have happened after it.
    Browsing and email counts are the shared window metrics of macro
    behaviour_metrics (sessions = distinct sessions fully known by `as_of`,
    emails = distinct campaigns), the same definitions as the engagement and
    features marts.
    `orders`, `order_lines`, `sessions`, `email_campaigns`: relations or CTE
    names with the columns of the behaviour models int_behaviour__orders,
    __order_lines, __sessions and __email_campaigns; `events` (fct_events
    columns) is read only for an event target's own history. The singular
    test assert_propensity_features_point_in_time calls this macro with
    inputs cut at the as-of date and requires identical rows.
    `category_firsts` (optional, macro propensity_category_firsts over the
    same orders and lines): a model that builds several snapshots counts each
    one's categories from it instead of joining every line to the snapshot's
    orders; the test recomputes without it, from the lines. -#}
{% macro propensity_customer_features(orders, order_lines, sessions, email_campaigns, events, as_of,
    category_firsts=none) -%}
    {%- set target = propensity_target() -%}
    {%- set count_from_firsts = category_firsts is not none and target.kind != 'category_purchase' -%}
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
            and o.known_date <= pit_date.feature_as_of_date
    ),

    {%- if not count_from_firsts %}

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
    {%- endif %}

    {%- if target.kind == 'event' %}
        pit_events as (
            select
                e.customer_key,
                e.event_type,
                date_diff('day', e.event_date, pit_date.feature_as_of_date) as days_before
            from {{ events }} as e
            cross join pit_date
            where
                e.customer_key is not null
                and e.event_type = '{{ target.value }}'
                and e.event_date <= pit_date.feature_as_of_date
                and {{ to_business_date('coalesce(e.received_at, e.event_at)') }} <= pit_date.feature_as_of_date
        ),

        target_event_features as (
            select
                customer_key,
                count(*) filter (where days_before < 90) as target_events_90d,
                min(days_before) as days_since_target_event
            from pit_events
            group by customer_key
        ),
    {%- endif %}

    {%- set pit = '(select feature_as_of_date from pit_date)' %}

    window_orders as (
        {{ behaviour_metrics('orders', pit, [30, 90, 180, 365], orders, only=['purchases', 'sales_eur']) }}
    ),

    session_features as (
        {{ behaviour_metrics('sessions', pit, [30, 90], sessions,
                             only=['sessions', 'product_views', 'cart_adds', 'checkouts']) }}
    ),

    last_session as (
        {{ behaviour_metrics('sessions', pit, [none], sessions, only=['last_session_date']) }}
    ),

    email_features as (
        {{ behaviour_metrics('email_campaigns', pit, [90], email_campaigns) }}
    ),

    purchase_gaps as (
        -- the last gaps between purchase days (a slowing customer shows them before recency does) and the
        -- regularity of all gaps; integer sums, so the spread is the same whatever the row order
        select
            customer_key,
            max(order_date) as last_day,
            arg_max(previous_day, order_date) as previous_day,
            arg_max(third_last_day, order_date) as third_last_day,
            -- the distinct purchase days, counted here rather than by a second distinct over the orders
            count(*) as purchase_days,
            max(gap) as longest_gap_days,
            count(gap) as n_gaps,
            sum(gap) as gap_sum,
            sum(gap * gap) as gap_sum_squares
        from (
            select
                customer_key,
                order_date,
                lag(order_date) over (partition by customer_key order by order_date) as previous_day,
                lag(order_date, 2) over (partition by customer_key order by order_date) as third_last_day,
                date_diff(
                    'day', lag(order_date) over (partition by customer_key order by order_date), order_date
                ) as gap
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
            sum(sales_amount_eur) as monetary_eur,
            sum(discount_amount_eur) as discount_amount_eur,
            -- fractional quantities are doubles, whose sum depends on row order: summed as
            -- decimals so a snapshot and its point-in-time recomputation agree to the bit
            sum(cast(item_quantity as decimal(18, 4))) as item_quantity
        from pit_orders
        group by customer_key
    ),

    line_features as (
    {%- if count_from_firsts %}
        select
            customer_key,
            count(*) as category_count
        from {{ category_firsts }}
        where first_known_date <= {{ pit }}
        group by customer_key
    ),
    {%- else %}
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
    {%- endif %}

    measured as (
        select
            o.customer_key,
            o.feature_as_of_date,
            date_diff('day', o.last_purchase_date, o.feature_as_of_date) as recency_days,
            date_diff('day', o.first_purchase_date, o.feature_as_of_date) as tenure_days,
            date_diff('day', o.first_purchase_date, o.last_purchase_date) as first_to_last_days,
            g.purchase_days - 1 as repeat_purchase_days,
            o.frequency,
            cast(o.monetary_eur as double) as monetary_eur,
            cast(o.monetary_eur / o.frequency as double) as avg_order_value_eur,
            cast(o.item_quantity as double) / o.frequency as avg_items_per_order,
            cast(o.discount_amount_eur / nullif(o.monetary_eur + o.discount_amount_eur, 0) as double)
                as discount_share,
            case
                when g.purchase_days > 1
                    then date_diff('day', o.first_purchase_date, o.last_purchase_date) / (g.purchase_days - 1.0)
            end as mean_days_between_purchases,
            date_diff('day', g.previous_day, g.last_day) as last_gap_days,
            date_diff('day', g.previous_day, o.feature_as_of_date) as days_since_second_last_purchase,
            date_diff('day', g.third_last_day, o.feature_as_of_date) as days_since_third_last_purchase,
            g.longest_gap_days,
            cast(date_diff('day', o.last_purchase_date, o.feature_as_of_date) as double)
            / g.longest_gap_days as recency_to_longest_gap_ratio,
            case
                when g.n_gaps > 1
                    then sqrt(
                        greatest(g.n_gaps * g.gap_sum_squares - g.gap_sum * g.gap_sum, 0)
                        / (g.n_gaps * (g.n_gaps - 1.0))
                    ) / (g.gap_sum / g.n_gaps)
            end as gap_cv,
            case
                when g.purchase_days > 1
                    then date_diff('day', o.last_purchase_date, o.feature_as_of_date)
                    * (g.purchase_days - 1.0) / nullif(date_diff('day', o.first_purchase_date, o.last_purchase_date), 0)
            end as recency_to_mean_gap_ratio,
            {%- for days in [30, 90, 180, 365] %}
                wo.purchases_{{ days }}d as orders_{{ days }}d,
            {%- endfor %}
            cast(wo.sales_eur_90d as double) as sales_90d_eur,
            cast(wo.sales_eur_365d as double) as sales_365d_eur,
            coalesce(lf.category_count, 0) as category_count,
            {#- the target's own history: null for 'purchase' (orders_90d and recency_days are it) -#}
            {%- if target.kind == 'category_purchase' %}
                coalesce(lf.target_orders_90d, 0) as target_count_90d,
                date_diff('day', lf.last_target_date, o.feature_as_of_date) as days_since_target,
            {%- elif target.kind == 'event' %}
                coalesce(tf.target_events_90d, 0) as target_count_90d,
                tf.days_since_target_event as days_since_target,
            {%- else %}
                cast(null as bigint) as target_count_90d,
                cast(null as bigint) as days_since_target,
            {%- endif %}
            {%- for col in ['sessions_30d', 'sessions_90d', 'product_views_90d', 'cart_adds_90d', 'checkouts_90d'] %}
                coalesce(sf.{{ col }}, 0) as {{ col }},
            {%- endfor %}
            coalesce(mf.emails_sent_90d, 0) as emails_sent_90d,
            coalesce(mf.emails_opened_90d, 0) as email_opens_90d,
            coalesce(mf.emails_clicked_90d, 0) as email_clicks_90d,
            date_diff('day', ls.last_session_date, o.feature_as_of_date) as days_since_last_session
        from order_features as o
        inner join window_orders as wo on o.customer_key = wo.customer_key
        left join purchase_gaps as g on o.customer_key = g.customer_key
        left join last_session as ls on o.customer_key = ls.customer_key
        left join line_features as lf on o.customer_key = lf.customer_key
        left join session_features as sf on o.customer_key = sf.customer_key
        left join email_features as mf on o.customer_key = mf.customer_key
        {%- if target.kind == 'event' %}
            left join target_event_features as tf on o.customer_key = tf.customer_key
        {%- endif %}
    )

    select
        *,
        {{ quintile_score('recency_days', descending=true) }} as r_score,
        {{ quintile_score('frequency') }} as f_score,
        {{ quintile_score('monetary_eur') }} as m_score
    from measured
{%- endmacro %}


{#- Per customer and product category, the first day a purchase of it was both
    dated and known (the later of the order's order_date and known_date): an
    order with an item sold, a line that is not a return, with a category. A
    snapshot as of D holds a category when its first day is on or before D, so
    count(*) of the rows with first_known_date <= D is the count of distinct
    categories macro propensity_customer_features computes from the lines
    dated and known by D (1,000,000 persons: one join of the 15 M lines
    instead of one per snapshot). `orders`, `order_lines`: the behaviour
    layer's columns. -#}
{% macro propensity_category_firsts(orders, order_lines) -%}
    select
        o.customer_key,
        l.category,
        min(greatest(o.order_date, o.known_date)) as first_known_date
    from {{ order_lines }} as l
    inner join {{ orders }} as o on l.order_id = o.order_id
    where
        o.customer_key is not null
        and o.item_quantity > 0
        and o.order_date is not null
        and o.known_date is not null
        and not l.is_return
        and l.category is not null
    group by o.customer_key, l.category
{%- endmacro %}
