{#- Email and web engagement, category affinity, channel/device preference and
    time-of-week patterns per customer as of int_as_of_date. Windows end on the
    as-of date inclusive; nothing after it is read. Hours and weekdays are in the
    business time zone (var microseg__business_timezone). The engagement score
    is a 0-100 weighted mean of the percentile ranks of the metrics listed in
    seed engagement_weights. -#}
{%- set categories = var('microseg__categories') -%}
{%- set score_metrics = engagement_score_metrics() -%}
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

-- anonymous visitors (device ids only, never logged in) are customers of the
-- identity graph but cannot be contacted: engagement covers known customers
customers as (
    select customer_key from {{ ref('dim_customers') }}
    where not is_anonymous
),

events as (
    select
        fct_events.*,
        date_diff('day', fct_events.event_date, as_of.as_of_date) as days_before_as_of,
        {{ to_business_time('fct_events.event_at') }} as event_at_local
    from {{ ref('fct_events') }} as fct_events
    cross join as_of
    where
        fct_events.customer_key is not null
        and fct_events.event_date <= as_of.as_of_date
),

orders as (
    select
        fct_orders.*,
        date_diff('day', fct_orders.order_date, as_of.as_of_date) as days_before_as_of,
        {{ to_business_time('fct_orders.ordered_at') }} as ordered_at_local
    from {{ ref('fct_orders') }} as fct_orders
    cross join as_of
    where
        fct_orders.customer_key is not null
        and fct_orders.order_date <= as_of.as_of_date
),

sale_lines as (
    select
        orders.customer_key,
        order_lines.category,
        order_lines.line_amount_eur
    from {{ ref('stg_shop__order_lines') }} as order_lines
    inner join orders on order_lines.order_id = orders.order_id
    where not order_lines.is_return and order_lines.line_amount_eur > 0
),

weights as (
    select * from {{ ref('engagement_weights') }}
),

-- distinct sessions and campaigns per window: one row per (customer, session)
-- and (customer, event type, campaign) first, with the most recent day, so the
-- window counts below are plain counts instead of count(distinct) per window
session_days as (
    select
        customer_key,
        session_id,
        min(days_before_as_of) as days_before_as_of
    from events
    where platform in ('web', 'app') and session_id is not null
    group by customer_key, session_id
),

campaign_days as (
    select
        customer_key,
        event_type,
        campaign_id,
        min(days_before_as_of) as days_before_as_of
    from events
    where event_type in ('email_sent', 'email_open', 'email_click') and campaign_id is not null
    group by customer_key, event_type, campaign_id
),

session_metrics as (
    select
        {%- for days in var('microseg__engagement_windows_days') %}
            count(*) filter (where days_before_as_of < {{ days }}) as sessions_{{ days }}d,
        {%- endfor %}
        customer_key
    from session_days
    group by customer_key
),

campaign_metrics as (
    select
        {%- for days in var('microseg__engagement_windows_days') %}
            {%- set email_events = [('email_sent', 'sent'), ('email_open', 'opened'), ('email_click', 'clicked')] %}
            {%- for event_type, name in email_events %}
                count(*) filter (
                    where event_type = '{{ event_type }}' and days_before_as_of < {{ days }}
                ) as emails_{{ name }}_{{ days }}d,
            {%- endfor %}
        {%- endfor %}
        customer_key
    from campaign_days
    group by customer_key
),

event_counts as (
    select
        customer_key,
        {%- for days in var('microseg__engagement_windows_days') %}
            count(*) filter (
                where event_type = 'page_view' and days_before_as_of < {{ days }}
            ) as page_views_{{ days }}d,
            count(*) filter (
                where event_type = 'product_view' and days_before_as_of < {{ days }}
            ) as product_views_{{ days }}d,
            count(*) filter (
                where event_type = 'add_to_cart' and days_before_as_of < {{ days }}
            ) as cart_adds_{{ days }}d,
            count(*) filter (
                where event_type = 'checkout' and days_before_as_of < {{ days }}
            ) as checkouts_{{ days }}d,
        {%- endfor %}
        max(event_at) filter (where platform in ('web', 'app')) as last_session_at
    from events
    group by customer_key
),

event_metrics as (
    select
        event_counts.customer_key,
        {%- for days in var('microseg__engagement_windows_days') %}
            coalesce(session_metrics.sessions_{{ days }}d, 0) as sessions_{{ days }}d,
            event_counts.page_views_{{ days }}d,
            event_counts.product_views_{{ days }}d,
            event_counts.cart_adds_{{ days }}d,
            event_counts.checkouts_{{ days }}d,
            coalesce(campaign_metrics.emails_sent_{{ days }}d, 0) as emails_sent_{{ days }}d,
            coalesce(campaign_metrics.emails_opened_{{ days }}d, 0) as emails_opened_{{ days }}d,
            coalesce(campaign_metrics.emails_clicked_{{ days }}d, 0) as emails_clicked_{{ days }}d,
        {%- endfor %}
        event_counts.last_session_at
    from event_counts
    left join session_metrics on event_counts.customer_key = session_metrics.customer_key
    left join campaign_metrics on event_counts.customer_key = campaign_metrics.customer_key
),

sessions as (
    select
        customer_key,
        session_id,
        min(event_at_local) as started_at_local,
        arg_min(device, event_at) as device,
        arg_min(platform, event_at) as platform
    from events
    where session_id is not null
    group by customer_key, session_id
),

order_metrics as (
    select
        {%- for days in var('microseg__engagement_windows_days') %}
            count(*) filter (where days_before_as_of < {{ days }}) as orders_{{ days }}d,
        {%- endfor %}
        customer_key
    from orders
    group by customer_key
),

-- Weekend and evening shares over every touchpoint with a clock: orders and sessions.
touchpoints as (
    select
        customer_key,
        ordered_at_local as local_at
    from orders
    union all
    select
        customer_key,
        started_at_local as local_at
    from sessions
),

time_patterns as (
    select
        customer_key,
        count(*) as touchpoint_count,
        avg(case when isodow(local_at) in (6, 7) then 1.0 else 0.0 end) as weekend_share,
        avg(
            case when hour(local_at) >= {{ var('microseg__evening_start_hour') }} then 1.0 else 0.0 end
        ) as evening_share
    from touchpoints
    group by customer_key
),

-- Most frequent value per customer; ties go to the alphabetically first value so
-- a rebuild never flips a customer's preference.
preferred_channel as (
    select
        customer_key,
        channel as preferred_channel
    from orders
    where channel is not null
    group by customer_key, channel
    qualify row_number() over (partition by customer_key order by count(*) desc, channel asc) = 1
),

preferred_device as (
    select
        customer_key,
        device as preferred_device
    from sessions
    where device is not null
    group by customer_key, device
    qualify row_number() over (partition by customer_key order by count(*) desc, device asc) = 1
),

category_spend as (
    select
        customer_key,
        {%- for category in categories %}
            coalesce(sum(line_amount_eur) filter (where category = '{{ category }}'), 0)
                as spend_{{ category }}_eur,
        {%- endfor %}
        sum(line_amount_eur) as spend_eur
    from sale_lines
    group by customer_key
),

top_category as (
    select
        customer_key,
        category as top_category
    from sale_lines
    group by customer_key, category
    qualify row_number() over (
        partition by customer_key order by sum(line_amount_eur) desc, category asc
    ) = 1
),

combined as (
    select
        customers.customer_key,
        as_of.as_of_date,
        {%- for days in var('microseg__engagement_windows_days') %}
            coalesce(event_metrics.sessions_{{ days }}d, 0) as sessions_{{ days }}d,
            coalesce(event_metrics.page_views_{{ days }}d, 0) as page_views_{{ days }}d,
            coalesce(event_metrics.product_views_{{ days }}d, 0) as product_views_{{ days }}d,
            coalesce(event_metrics.cart_adds_{{ days }}d, 0) as cart_adds_{{ days }}d,
            coalesce(event_metrics.checkouts_{{ days }}d, 0) as checkouts_{{ days }}d,
            coalesce(order_metrics.orders_{{ days }}d, 0) as orders_{{ days }}d,
            coalesce(event_metrics.emails_sent_{{ days }}d, 0) as emails_sent_{{ days }}d,
            coalesce(event_metrics.emails_opened_{{ days }}d, 0) as emails_opened_{{ days }}d,
            coalesce(event_metrics.emails_clicked_{{ days }}d, 0) as emails_clicked_{{ days }}d,
            cast(round(
                least(event_metrics.emails_opened_{{ days }}d, event_metrics.emails_sent_{{ days }}d)
                / nullif(event_metrics.emails_sent_{{ days }}d, 0), 4
            ) as double) as email_open_rate_{{ days }}d,
            cast(round(
                least(event_metrics.emails_clicked_{{ days }}d, event_metrics.emails_sent_{{ days }}d)
                / nullif(event_metrics.emails_sent_{{ days }}d, 0), 4
            ) as double) as email_click_rate_{{ days }}d,
        {%- endfor %}
        date_diff('day', cast(event_metrics.last_session_at as date), as_of.as_of_date)
            as days_since_last_session,
        top_category.top_category,
        {%- for category in categories %}
            cast(round(
                coalesce(category_spend.spend_{{ category }}_eur / nullif(category_spend.spend_eur, 0), 0), 4
            ) as double) as category_share_{{ category }},
        {%- endfor %}
        preferred_channel.preferred_channel,
        preferred_device.preferred_device,
        coalesce(time_patterns.touchpoint_count, 0) as touchpoint_count,
        cast(round(time_patterns.weekend_share, 4) as double) as weekend_share,
        cast(round(time_patterns.evening_share, 4) as double) as evening_share
    from customers
    cross join as_of
    left join event_metrics on customers.customer_key = event_metrics.customer_key
    left join order_metrics on customers.customer_key = order_metrics.customer_key
    left join time_patterns on customers.customer_key = time_patterns.customer_key
    left join preferred_channel on customers.customer_key = preferred_channel.customer_key
    left join preferred_device on customers.customer_key = preferred_device.customer_key
    left join category_spend on customers.customer_key = category_spend.customer_key
    left join top_category on customers.customer_key = top_category.customer_key
),

-- Long form of the candidate metrics; the seed decides which count and how much.
metric_values as (
    select
        unpivoted.customer_key,
        unpivoted.metric,
        coalesce(unpivoted.metric_value, 0) as metric_value
    from (
        unpivot (
            select
                {%- for metric in score_metrics %}
                    cast({{ metric }} as double) as {{ metric }},
                {%- endfor %}
                customer_key
            from combined
        )
        on columns(* exclude (customer_key))
        into name metric value metric_value
    ) as unpivoted
),

metric_ranks as (
    select
        metric_values.customer_key,
        weights.weight,
        percent_rank() over (partition by metric_values.metric order by metric_values.metric_value) as pct_rank
    from metric_values
    inner join weights on metric_values.metric = weights.metric
),

engagement_score as (
    select
        customer_key,
        round(100 * sum(weight * pct_rank) / sum(weight), 2) as engagement_score
    from metric_ranks
    group by customer_key
),

final as (
    select
        combined.*,
        cast(coalesce(engagement_score.engagement_score, 0) as double) as engagement_score
    from combined
    left join engagement_score on combined.customer_key = engagement_score.customer_key
)

select * from final
