{#- The active customers of the micro-segments as of int_as_of_date, one row
    each, with the purchase, browsing and email totals mart_customer_features
    reads: a known customer (not an anonymous device) whose last activity
    (int_features__activity) lies in the microseg__segment_active_days before
    the as-of date (inclusive); event-based totals over the last
    microseg__segment_event_window_days (sessions per device as
    <device>_sessions: a column ending in `mobile` reads as a phone number
    column to the privacy scan); per category the affinity hits (sold lines
    and category views) and trials.

    A table of its own rather than a CTE of mart_customer_features: DuckDB
    estimated the active customers at about 2,000 rows (1,006,448 at
    1,000,000 persons: the activity filter and the known-customer filter
    multiply their guesses), so it built every hash join of the mart on
    these 45-column rows and needed more than 2 GB; read from a table whose
    row count it knows, the mart runs in under 600 MB (docs/decisions.md). -#}
{%- set categories = microseg_categories() -%}
{%- set w = var('microseg__segment_event_window_days') ~ 'd' -%}
with

as_of as (
    select
        as_of_date,
        as_of_date - {{ var('microseg__segment_active_days') }} + 1 as active_from_date
    from {{ ref('int_as_of_date') }}
),

known_customers as (
    select
        customer_key,
        signup_at
    from {{ ref('int_customers') }}
    where not is_anonymous
),

activity as (
    select * from {{ ref('int_features__activity') }}
),

purchases as (
    select * from {{ ref('int_features__purchase_totals') }}
),

browsing as (
    select * from {{ ref('int_features__browsing_totals') }}
),

joined as (
    select
        known_customers.customer_key,
        {{ to_business_date('known_customers.signup_at') }} as signup_date,
        activity.last_activity_date,
        purchases.* exclude (customer_key),  -- noqa: RF02
        {%- for metric in ['sessions', 'page_views', 'cart_adds', 'checkouts', 'cart_sessions', 'checkout_sessions',
                           'app_sessions', 'emails_sent', 'emails_opened', 'emails_clicked'] %}
            browsing.{{ metric }}_{{ w }} as {{ metric }},
        {%- endfor %}
        {%- for device in var('microseg__devices') %}
            browsing.sessions_{{ device }}_{{ w }} as {{ device }}_sessions,
        {%- endfor %}
        {%- for category in categories %}
            coalesce(purchases.lines_{{ category }}, 0) + coalesce(browsing.views_{{ category }}_{{ w }}, 0)
                as affinity_hits_{{ category }},
        {%- endfor %}
        coalesce(purchases.sale_lines, 0) + coalesce(browsing.category_views_{{ w }}, 0) as affinity_trials,
        browsing.touchpoints,
        browsing.weekend_touchpoints,
        browsing.evening_touchpoints,
        browsing.morning_touchpoints
    from known_customers
    inner join activity on known_customers.customer_key = activity.customer_key
    cross join as_of
    left join purchases on known_customers.customer_key = purchases.customer_key
    left join browsing on known_customers.customer_key = browsing.customer_key
    where activity.last_activity_date >= as_of.active_from_date
)

select * from joined  -- noqa: AM04
