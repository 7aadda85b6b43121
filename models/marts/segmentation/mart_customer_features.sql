{#- One row per active customer as of int_as_of_date with the numeric features
    the segmentation and propensity models read. Nothing after the as-of date is
    read.

    Active (vars): a known customer (not an anonymous device) with an order, a
    web/app session or an email open/click in the microseg__segment_active_days
    before the as-of date (inclusive). Event-based metrics cover the last
    microseg__segment_event_window_days (the "_window" columns).

    Shares with few trials (a customer's category mix from two orders, an open
    rate from one email) are shrunk toward the base share of all active customers
    with prior weight microseg__segment_prior_weight (columns ending _smoothed and
    category_affinity_*). Seed segment_features lists the columns that feed the
    clustering and how each is transformed. -#}
{%- set categories = var('microseg__categories') -%}
{%- set channels = ['web', 'app', 'store', 'marketplace'] -%}
{%- set devices = ['mobile', 'desktop', 'tablet'] -%}
{%- set interests = ['sustainability', 'outdoors', 'fashion', 'tech', 'home', 'deals'] -%}
{%- set evening_hour = var('microseg__evening_start_hour') -%}
{%- set morning_hour = var('microseg__segment_morning_end_hour') -%}
with

as_of as (
    select
        as_of_date,
        as_of_date - {{ var('microseg__segment_active_days') }} + 1 as active_from_date,
        as_of_date - {{ var('microseg__segment_event_window_days') }} + 1 as window_from_date
    from {{ ref('int_as_of_date') }}
),

known_customers as (
    select
        customer_key,
        signup_at
    from {{ ref('dim_customers') }}
    where not is_anonymous
),

orders as (
    select
        fct_orders.order_id,
        fct_orders.customer_key,
        fct_orders.order_date,
        fct_orders.channel,
        fct_orders.sales_amount_eur,
        fct_orders.discount_amount_eur,
        fct_orders.returns_amount_eur,
        {{ to_business_time('fct_orders.ordered_at') }} as ordered_at_local
    from {{ ref('fct_orders') }} as fct_orders
    cross join as_of
    where
        fct_orders.customer_key is not null
        and fct_orders.order_date <= as_of.as_of_date
),

order_lines as (
    select
        orders.customer_key,
        order_line.category,
        order_line.line_amount_eur,
        order_line.is_return,
        coalesce(order_line.discount_amount_eur, 0) > 0 as is_discounted
    from {{ ref('stg_shop__order_lines') }} as order_line
    inner join orders on order_line.order_id = orders.order_id
),

events as (
    select
        fct_events.customer_key,
        fct_events.event_type,
        fct_events.event_at,
        fct_events.event_date,
        fct_events.platform,
        fct_events.device,
        fct_events.category,
        fct_events.session_id,
        fct_events.campaign_id,
        {{ to_business_time('fct_events.event_at') }} as event_at_local
    from {{ ref('fct_events') }} as fct_events
    cross join as_of
    where
        fct_events.customer_key is not null
        and fct_events.event_date between as_of.window_from_date and as_of.as_of_date
),

-- ---------------------------------------------------------------- activity rule
last_activity as (
    select
        customer_key,
        max(activity_date) as last_activity_date
    from (
        select
            customer_key,
            order_date as activity_date
        from orders
        union all
        select
            customer_key,
            event_date as activity_date
        from events
        where platform in ('web', 'app') or event_type in ('email_open', 'email_click')
    ) as activity
    group by customer_key
),

active_customers as (
    select
        known_customers.customer_key,
        known_customers.signup_at,
        last_activity.last_activity_date
    from known_customers
    inner join last_activity on known_customers.customer_key = last_activity.customer_key
    cross join as_of
    where last_activity.last_activity_date >= as_of.active_from_date
),

-- ---------------------------------------------------------------- purchases
sale_orders as (
    select
        customer_key,
        order_date,
        date_diff('day', lag(order_date) over (partition by customer_key order by order_date), order_date)
            as gap_days
    from orders
    where sales_amount_eur > 0
),

order_gaps as (
    select
        customer_key,
        avg(gap_days) as gap_mean_days,
        stddev_samp(gap_days) as gap_sd_days
    from sale_orders
    where gap_days is not null
    group by customer_key
),

order_totals as (
    select
        {%- for channel in channels %}
            count(*) filter (where channel = '{{ channel }}') as orders_{{ channel }},
        {%- endfor %}
        customer_key,
        count(*) as order_count,
        sum(sales_amount_eur) as sales_eur,
        sum(discount_amount_eur) as discount_eur,
        sum(returns_amount_eur) as returns_eur
    from orders
    group by customer_key
),

line_totals as (
    select
        {%- for category in categories %}
            count(*) filter (where not is_return and category = '{{ category }}') as lines_{{ category }},
            coalesce(sum(line_amount_eur) filter (where not is_return and category = '{{ category }}'), 0)
                as spend_{{ category }}_eur,
        {%- endfor %}
        customer_key,
        count(*) filter (where not is_return) as sale_lines,
        count(*) filter (where not is_return and is_discounted) as discounted_lines,
        count(*) filter (where is_return) as return_lines,
        sum(line_amount_eur) filter (where not is_return) as line_sales_eur
    from order_lines
    group by customer_key
),

-- ---------------------------------------------------------------- browsing and email
sessions as (
    select
        customer_key,
        session_id,
        min(event_at_local) as started_at_local,
        arg_min(device, event_at) as device,
        arg_min(platform, event_at) as platform,
        bool_or(event_type = 'add_to_cart') as has_cart_add,
        bool_or(event_type = 'checkout') as has_checkout
    from events
    where session_id is not null and platform in ('web', 'app')
    group by customer_key, session_id
),

session_totals as (
    select
        {%- for device in devices %}
            count(*) filter (where device = '{{ device }}') as sessions_{{ device }},
        {%- endfor %}
        customer_key,
        count(*) as session_count,
        count(*) filter (where platform = 'app') as app_sessions,
        count(*) filter (where has_cart_add) as cart_sessions,
        count(*) filter (where has_checkout) as checkout_sessions
    from sessions
    group by customer_key
),

event_totals as (
    select
        {%- for category in categories %}
            count(*) filter (
                where event_type in ('page_view', 'product_view') and category = '{{ category }}'
            ) as views_{{ category }},
        {%- endfor %}
        customer_key,
        count(*) filter (where event_type in ('page_view', 'product_view') and category is not null)
            as category_views,
        count(*) filter (where event_type in ('page_view', 'product_view')) as page_views,
        count(*) filter (where event_type = 'add_to_cart') as cart_adds,
        count(*) filter (where event_type = 'checkout') as checkouts,
        count(distinct campaign_id) filter (where event_type = 'email_sent') as emails_sent,
        count(distinct campaign_id) filter (where event_type = 'email_open') as emails_opened,
        count(distinct campaign_id) filter (where event_type = 'email_click') as emails_clicked,
        max(event_date) filter (where platform in ('web', 'app')) as last_session_date
    from events
    group by customer_key
),

-- orders and sessions are the touchpoints with a clock
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

time_totals as (
    select
        customer_key,
        count(*) as touchpoints,
        count(*) filter (where isodow(local_at) in (6, 7)) as weekend_touchpoints,
        count(*) filter (where hour(local_at) >= {{ evening_hour }}) as evening_touchpoints,
        count(*) filter (where hour(local_at) < {{ morning_hour }}) as morning_touchpoints
    from touchpoints
    group by customer_key
),

-- ---------------------------------------------------------------- one row per active customer
joined as (
    select
        {%- for category in categories %}
            coalesce(line_totals.lines_{{ category }}, 0) + coalesce(event_totals.views_{{ category }}, 0)
                as affinity_hits_{{ category }},
            coalesce(line_totals.spend_{{ category }}_eur, 0) as spend_{{ category }}_eur,
        {%- endfor %}
        {%- for channel in channels %}
            order_totals.orders_{{ channel }},
        {%- endfor %}
        {%- for device in devices %}
            session_totals.sessions_{{ device }},
        {%- endfor %}
        active_customers.customer_key,
        active_customers.signup_at,
        active_customers.last_activity_date,
        order_totals.order_count,
        order_totals.sales_eur,
        order_totals.discount_eur,
        order_totals.returns_eur,
        line_totals.sale_lines,
        line_totals.discounted_lines,
        line_totals.return_lines,
        line_totals.line_sales_eur,
        order_gaps.gap_mean_days,
        order_gaps.gap_sd_days,
        session_totals.session_count,
        session_totals.app_sessions,
        session_totals.cart_sessions,
        session_totals.checkout_sessions,
        event_totals.page_views,
        event_totals.cart_adds,
        event_totals.checkouts,
        event_totals.emails_sent,
        event_totals.emails_opened,
        event_totals.emails_clicked,
        event_totals.last_session_date,
        time_totals.touchpoints,
        time_totals.weekend_touchpoints,
        time_totals.evening_touchpoints,
        time_totals.morning_touchpoints,
        coalesce(line_totals.sale_lines, 0) + coalesce(event_totals.category_views, 0) as affinity_trials
    from active_customers
    left join order_totals on active_customers.customer_key = order_totals.customer_key
    left join line_totals on active_customers.customer_key = line_totals.customer_key
    left join order_gaps on active_customers.customer_key = order_gaps.customer_key
    left join session_totals on active_customers.customer_key = session_totals.customer_key
    left join event_totals on active_customers.customer_key = event_totals.customer_key
    left join time_totals on active_customers.customer_key = time_totals.customer_key
),

-- pooled shares over all active customers: where the smoothing shrinks toward
base_shares as (
    select
        {%- for category in categories %}
            sum(affinity_hits_{{ category }}) / nullif(sum(affinity_trials), 0) as affinity_{{ category }},
        {%- endfor %}
        {%- for channel in channels %}
            sum(orders_{{ channel }}) / nullif(sum(order_count), 0) as channel_{{ channel }},
        {%- endfor %}
        {%- for device in devices %}
            sum(sessions_{{ device }}) / nullif(sum(session_count), 0) as device_{{ device }},
        {%- endfor %}
        sum(discounted_lines) / nullif(sum(sale_lines), 0) as discounted_lines,
        sum(return_lines) / nullif(sum(sale_lines), 0) as return_lines,
        sum(app_sessions) / nullif(sum(session_count), 0) as app_sessions,
        sum(cart_sessions) / nullif(sum(session_count), 0) as cart_sessions,
        sum(checkout_sessions) / nullif(sum(session_count), 0) as checkout_sessions,
        sum(emails_opened) / nullif(sum(emails_sent), 0) as emails_opened,
        sum(emails_clicked) / nullif(sum(emails_sent), 0) as emails_clicked,
        sum(weekend_touchpoints) / nullif(sum(touchpoints), 0) as weekend_touchpoints,
        sum(evening_touchpoints) / nullif(sum(touchpoints), 0) as evening_touchpoints,
        sum(morning_touchpoints) / nullif(sum(touchpoints), 0) as morning_touchpoints
    from joined
),

rfm as (
    select * from {{ ref('mart_customer_rfm') }}
),

engagement as (
    select
        customer_key,
        engagement_score
    from {{ ref('mart_customer_engagement') }}
),

hygiene as (
    select * from {{ ref('int_customer_hygiene') }}
),

final as (
    select
        joined.customer_key,
        as_of.as_of_date,
        joined.last_activity_date,
        rfm.customer_key is not null as has_purchase,
        rfm.recency_days,
        -- tenure stands in for recency when there is no purchase: "not bought for as long as known"
        rfm.customer_key is null as is_recency_imputed,
        date_diff(
            'day',
            least(
                cast(joined.signup_at as date), rfm.first_order_date,
                cast(joined.last_activity_date as date)
            ),
            as_of.as_of_date
        ) as tenure_days,
        coalesce(
            rfm.recency_days,
            date_diff(
                'day', least(cast(joined.signup_at as date), cast(joined.last_activity_date as date)), as_of.as_of_date
            )
        ) as recency_or_tenure_days,
        coalesce(rfm.frequency, 0) as frequency,
        cast(coalesce(rfm.monetary_eur, 0) as double) as monetary_eur,
        cast(rfm.avg_order_value_eur as double) as avg_order_value_eur,
        cast(
            coalesce(rfm.frequency, 0) * 365.0
            / greatest(
                date_diff('day', least(cast(joined.signup_at as date), rfm.first_order_date), as_of.as_of_date),
                90
            ) as double
        ) as orders_per_year,
        cast(joined.gap_mean_days as double) as gap_mean_days,
        cast(joined.gap_sd_days as double) as gap_sd_days,
        joined.gap_mean_days is null as is_gap_missing,
        cast(joined.discount_eur / nullif(joined.sales_eur + joined.discount_eur, 0) as double) as discount_share,
        cast(joined.returns_eur / nullif(joined.sales_eur, 0) as double) as return_share,
        cast(
            {{ smoothed_share('joined.discounted_lines', 'joined.sale_lines', 'base_shares.discounted_lines') }}
            as double
        ) as discounted_line_share_smoothed,
        cast(
            {{ smoothed_share('joined.return_lines', 'joined.sale_lines', 'base_shares.return_lines') }}
            as double
        ) as returned_line_share_smoothed,
        {%- for category in categories %}
            cast(coalesce(joined.spend_{{ category }}_eur / nullif(joined.line_sales_eur, 0), 0) as double)
                as category_share_{{ category }},
            cast({{ smoothed_share(
                'joined.affinity_hits_' ~ category, 'joined.affinity_trials', 'base_shares.affinity_' ~ category
            ) }} as double) as category_affinity_{{ category }},
        {%- endfor %}
        coalesce(joined.session_count, 0) as sessions_window,
        coalesce(joined.page_views, 0) as page_views_window,
        coalesce(joined.cart_adds, 0) as cart_adds_window,
        coalesce(joined.checkouts, 0) as checkouts_window,
        coalesce(joined.emails_sent, 0) as emails_sent_window,
        date_diff('day', joined.last_session_date, as_of.as_of_date) as days_since_last_session,
        cast(
            {{ smoothed_share('joined.cart_sessions', 'joined.session_count', 'base_shares.cart_sessions') }}
            as double
        ) as cart_session_share_smoothed,
        cast(
            {{ smoothed_share('joined.checkout_sessions', 'joined.session_count', 'base_shares.checkout_sessions') }}
            as double
        ) as checkout_session_share_smoothed,
        cast(
            {{ smoothed_share('joined.emails_opened', 'joined.emails_sent', 'base_shares.emails_opened') }}
            as double
        ) as email_open_rate_smoothed,
        cast(
            {{ smoothed_share('joined.emails_clicked', 'joined.emails_sent', 'base_shares.emails_clicked') }}
            as double
        ) as email_click_rate_smoothed,
        {%- for channel in channels %}
            cast({{ smoothed_share(
                'joined.orders_' ~ channel, 'joined.order_count', 'base_shares.channel_' ~ channel
            ) }} as double) as channel_share_{{ channel }}_smoothed,
        {%- endfor %}
        {%- for device in devices %}
            cast({{ smoothed_share(
                'joined.sessions_' ~ device, 'joined.session_count', 'base_shares.device_' ~ device
            ) }} as double) as device_share_{{ device }}_smoothed,
        {%- endfor %}
        cast(
            {{ smoothed_share('joined.app_sessions', 'joined.session_count', 'base_shares.app_sessions') }}
            as double
        ) as app_session_share_smoothed,
        cast(
            {{ smoothed_share('joined.weekend_touchpoints', 'joined.touchpoints', 'base_shares.weekend_touchpoints') }}
            as double
        ) as weekend_share_smoothed,
        cast(
            {{ smoothed_share('joined.evening_touchpoints', 'joined.touchpoints', 'base_shares.evening_touchpoints') }}
            as double
        ) as evening_share_smoothed,
        cast(
            {{ smoothed_share('joined.morning_touchpoints', 'joined.touchpoints', 'base_shares.morning_touchpoints') }}
            as double
        ) as morning_share_smoothed,
        cast(coalesce(engagement.engagement_score, 0) as double) as engagement_score,
        {%- for interest in interests %}
            hygiene.interest_{{ interest }},
            hygiene.is_interest_{{ interest }}_imputed,
        {%- endfor %}
        coalesce(hygiene.has_enrichment, false) as has_enrichment,
        hygiene.age_years,
        hygiene.is_birth_year_imputed,
        coalesce(hygiene.is_frequency_outlier, false) as is_frequency_outlier,
        coalesce(hygiene.is_monetary_eur_outlier, false) as is_monetary_eur_outlier,
        coalesce(hygiene.is_avg_order_value_eur_outlier, false) as is_avg_order_value_eur_outlier
    from joined
    cross join as_of
    cross join base_shares
    left join rfm on joined.customer_key = rfm.customer_key
    left join engagement on joined.customer_key = engagement.customer_key
    left join hygiene on joined.customer_key = hygiene.customer_key
)

select * from final
