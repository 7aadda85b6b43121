{#- One row per active customer as of int_as_of_date with the numeric features
    the segmentation and propensity models read. Nothing known after the as-of
    date is read. Each job is its own step: the activity rule
    (int_features__activity), purchase totals (int_features__purchase_totals),
    browsing, email and touchpoint totals (int_features__browsing_totals), all
    aggregations of the behaviour layer by macro behaviour_metrics, the active
    customers with those totals (int_features__active_customers, a table so
    that DuckDB knows its size); the smoothed shares are the loop below over
    macro segment_smoothed_shares.

    Active (vars): a known customer (not an anonymous device) whose last order,
    web/app session or email open/click lies in the microseg__segment_active_days
    before the as-of date (inclusive). Event-based metrics cover the last
    microseg__segment_event_window_days (the "_window" columns).

    Shares with few trials (a customer's category mix from two orders, an open
    rate from one email) are shrunk toward the base share of all active customers
    with prior weight microseg__segment_prior_weight (columns ending _smoothed and
    category_affinity_*). Seed segment_features lists the columns that feed the
    clustering and how each is transformed. -#}
{%- set categories = microseg_categories() -%}
{%- set shares = segment_smoothed_shares() -%}
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

rfm as (
    {{ select_with_customer_key_as_uuid(ref('mart_customer_rfm')) }}
),

engagement as (
    {{ select_with_customer_key_as_uuid(ref('mart_customer_engagement')) }}
),

hygiene as (
    select * from {{ ref('int_customer_hygiene') }}
),

{#- sessions per device under the names of macro segment_smoothed_shares -#}
{%- set device_sessions = [] -%}
{%- for device in var('microseg__devices') -%}{%- do device_sessions.append(device ~ '_sessions') -%}{%- endfor %}

joined as (
    select
        {%- for device in var('microseg__devices') %}
            {{ device }}_sessions as sessions_{{ device }},
        {%- endfor %}
        * exclude ({{ device_sessions | join(', ') }})
    from {{ ref('int_features__active_customers') }}
),

-- pooled shares over all active customers: where the smoothing shrinks toward
base_shares as (
    select
        {%- for name, hits, trials in shares %}
            sum({{ capped_hits(hits, trials) }}) / nullif(sum({{ trials }}), 0) as {{ name }},
        {%- endfor %}
        count(*) as active_customers
    from joined
),

final as (
    select
        {{ customer_key_from_uuid('joined.customer_key') }} as customer_key,
        as_of.as_of_date,
        joined.last_activity_date,
        rfm.customer_key is not null as has_purchase,
        rfm.recency_days,
        -- tenure stands in for recency when there is no purchase: "not bought for as long as known"
        rfm.customer_key is null as is_recency_imputed,
        date_diff(
            'day',
            least(joined.signup_date, rfm.first_order_date, joined.last_activity_date),
            as_of.as_of_date
        ) as tenure_days,
        coalesce(
            rfm.recency_days,
            date_diff('day', least(joined.signup_date, joined.last_activity_date), as_of.as_of_date)
        ) as recency_or_tenure_days,
        coalesce(rfm.frequency, 0) as frequency,
        cast(coalesce(rfm.monetary_eur, 0) as double) as monetary_eur,
        cast(rfm.avg_order_value_eur as double) as avg_order_value_eur,
        cast(
            coalesce(rfm.frequency, 0) * 365.0
            / greatest(
                date_diff('day', least(joined.signup_date, rfm.first_order_date), as_of.as_of_date),
                90
            ) as double
        ) as orders_per_year,
        cast(joined.gap_mean_days as double) as gap_mean_days,
        cast(joined.gap_sd_days as double) as gap_sd_days,
        joined.gap_mean_days is null as is_gap_missing,
        cast(joined.discount_eur / nullif(joined.sales_eur + joined.discount_eur, 0) as double) as discount_share,
        cast(joined.returns_eur / nullif(joined.sales_eur, 0) as double) as return_share,
        {%- for category in categories %}
            coalesce(engagement.category_share_{{ category }}, 0) as category_share_{{ category }},
        {%- endfor %}
        {%- for metric in ['sessions', 'page_views', 'cart_adds', 'checkouts', 'emails_sent'] %}
            coalesce(joined.{{ metric }}, 0) as {{ metric }}_window,
        {%- endfor %}
        engagement.days_since_last_session,
        {%- for name, hits, trials in shares %}
            cast({{ smoothed_share('joined.' ~ hits, 'joined.' ~ trials, 'base_shares.' ~ name) }} as double)
                as {{ name }},
        {%- endfor %}
        cast(coalesce(engagement.engagement_score, 0) as double) as engagement_score,
        {%- for interest in var('microseg__interests') %}
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
