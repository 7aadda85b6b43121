{#- Email and web engagement, category spend shares, channel/device
    preference and time-of-week patterns per known customer as of
    int_as_of_date: a short aggregation of the behaviour layer by macro
    behaviour_metrics, whose definitions every customer mart shares
    (docs/metrics.md). Windows (var microseg__engagement_windows_days) end on
    the as-of date inclusive; nothing known after it is read. Shares, the
    preferred channel and device and days since the last session cover all
    history up to the as-of date. The engagement score is a 0-100 weighted
    mean of the percentile ranks of the metrics listed in seed
    engagement_weights (macro engagement_score). -#}
{%- set windows = var('microseg__engagement_windows_days') -%}
{%- set categories = microseg_categories() -%}
{%- set as_of_date = '(select as_of_date from as_of)' -%}
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

-- anonymous visitors (device ids only, never logged in) are customers of the
-- identity graph but cannot be contacted: engagement covers known customers
customers as (
    select customer_key from {{ ref('int_customers') }}
    where not is_anonymous
),

window_sessions as (
    {{ behaviour_metrics('sessions', as_of_date, windows,
                         only=['sessions', 'page_views', 'product_views', 'cart_adds', 'checkouts']) }}
),

all_sessions as (
    {%- set device_metrics = [] %}
    {%- for device in var('microseg__devices') %}{% do device_metrics.append('sessions_' ~ device) %}{% endfor %}
    {{ behaviour_metrics('sessions', as_of_date, [none], only=['last_session_date'] + device_metrics) }}
),

window_emails as (
    {{ behaviour_metrics('email_campaigns', as_of_date, windows) }}
),

window_orders as (
    {{ behaviour_metrics('orders', as_of_date, windows + [none]) }}
),

all_lines as (
    {{ behaviour_metrics('order_lines', as_of_date, [none]) }}
),

all_touchpoints as (
    {{ behaviour_metrics('touchpoints', as_of_date, [none]) }}
),

combined as (
    select
        customers.customer_key,
        as_of.as_of_date,
        {%- for days in windows %}
            {%- for metric in ['sessions', 'page_views', 'product_views', 'cart_adds', 'checkouts'] %}
                coalesce(window_sessions.{{ metric }}_{{ days }}d, 0) as {{ metric }}_{{ days }}d,
            {%- endfor %}
            coalesce(window_orders.orders_{{ days }}d, 0) as orders_{{ days }}d,
            {%- for flag in var('microseg__email_event_types') %}
                coalesce(window_emails.emails_{{ flag }}_{{ days }}d, 0) as emails_{{ flag }}_{{ days }}d,
            {%- endfor %}
            {%- for rate, flag in [('open', 'opened'), ('click', 'clicked')] %}
                cast(round(
                    least(window_emails.emails_{{ flag }}_{{ days }}d, window_emails.emails_sent_{{ days }}d)
                    / nullif(window_emails.emails_sent_{{ days }}d, 0), 4
                ) as double) as email_{{ rate }}_rate_{{ days }}d,
            {%- endfor %}
        {%- endfor %}
        date_diff('day', all_sessions.last_session_date, as_of.as_of_date) as days_since_last_session,
        {{ preferred_value('all_lines.spend_', categories, '_eur', digits=2) }} as top_category,
        {#- spends rounded to 6 decimals before the division: the sums of doubles differ in their last bits with
            the order of the rows (an incremental chain against a full refresh), enough to flip the share's 4th
            decimal; line amounts carry 4 decimals, so their sums sit far from a 6th-decimal rounding edge -#}
        {%- for category in categories %}
            cast(round(coalesce(
                round(all_lines.spend_{{ category }}_eur, 6) / nullif(round(all_lines.line_sales_eur, 6), 0), 0
            ), 4) as double) as category_share_{{ category }},
        {%- endfor %}
        {{ preferred_value('window_orders.orders_', var('microseg__channels')) }} as preferred_channel,
        {{ preferred_value('all_sessions.sessions_', var('microseg__devices')) }} as preferred_device,
        coalesce(all_touchpoints.touchpoints, 0) as touchpoint_count,
        cast(round(all_touchpoints.weekend_touchpoints / nullif(all_touchpoints.touchpoints, 0), 4) as double)
            as weekend_share,
        cast(round(all_touchpoints.evening_touchpoints / nullif(all_touchpoints.touchpoints, 0), 4) as double)
            as evening_share
    from customers
    cross join as_of
    left join window_sessions on customers.customer_key = window_sessions.customer_key
    left join all_sessions on customers.customer_key = all_sessions.customer_key
    left join window_emails on customers.customer_key = window_emails.customer_key
    left join window_orders on customers.customer_key = window_orders.customer_key
    left join all_lines on customers.customer_key = all_lines.customer_key
    left join all_touchpoints on customers.customer_key = all_touchpoints.customer_key
),

engagement_score as (
    {{ engagement_score('combined') }}
),

final as (
    select
        {{ customer_key_from_uuid('combined.customer_key') }} as customer_key,
        combined.* exclude (customer_key),
        cast(coalesce(engagement_score.engagement_score, 0) as double) as engagement_score
    from combined
    left join engagement_score on combined.customer_key = engagement_score.customer_key
)

select * from final
