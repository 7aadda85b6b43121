{#- The label of every feature row: did the target (var
    microseg__propensity_target) happen in (feature_as_of_date,
    feature_as_of_date + horizon]? For the latest training snapshot_kind that window
    ends at as_of_date (earlier ones end a horizon before, and so on); for the scoring snapshot_kind it lies after as_of_date and is
    only known when the data runs past it (a backtest with as_of_date set
    earlier, as in the CDNOW benchmark): label is null while the window is not
    fully covered by the data. Nothing here feeds a feature. -#}
{%- set target = propensity_target() %}
with

features as (
    select
        customer_key,
        snapshot_kind,
        feature_as_of_date
    from {{ ref('propensity_features') }}
),

{% if target.kind == 'event' -%}
happenings as (
    select
        customer_key,
        event_date as happened_on
    from {{ ref('fct_events') }}
    where event_type = '{{ target.value }}' and customer_key is not null
),

data_end as (
    select max(event_date) as data_end_date
    from {{ ref('fct_events') }}
    where event_date <= current_date
),
{%- else -%}
    orders as not materialized (
        select * from {{ ref('fct_orders') }}
    ),

    happenings as (
        select
            orders.customer_key,
            orders.order_date as happened_on
        from orders
        {%- if target.kind == 'category_purchase' %}
        inner join {{ ref('fct_order_lines') }} as lines
            on orders.order_id = lines.order_id and not lines.is_return and lines.category = '{{ target.value }}'
    {%- endif %}
        where orders.customer_key is not null and orders.item_quantity > 0
    ),

    data_end as (
        select max(order_date) as data_end_date
        from orders
        where order_date <= current_date
    ),
{%- endif %}

windows as (
    select
        features.customer_key,
        features.snapshot_kind,
        features.feature_as_of_date as label_window_start,
        cast(features.feature_as_of_date + {{ var('microseg__propensity_horizon_days') | int }} as date)
            as label_window_end,
        data_end.data_end_date
    from features
    cross join data_end
),

hits as (
    select
        windows.customer_key,
        windows.snapshot_kind,
        windows.label_window_start,
        count(happenings.happened_on) as n_happenings
    from windows
    left join happenings
        on
            windows.customer_key = happenings.customer_key
            and windows.label_window_start < happenings.happened_on
            and windows.label_window_end >= happenings.happened_on
    group by windows.customer_key, windows.snapshot_kind, windows.label_window_start
),

final as (
    select
        windows.customer_key,
        windows.snapshot_kind,
        '{{ target.name }}' as target_name,
        windows.label_window_start,
        windows.label_window_end,
        coalesce(windows.data_end_date >= windows.label_window_end, false) as is_label_complete,
        case when windows.data_end_date >= windows.label_window_end then hits.n_happenings > 0 end as target_happened
    from windows
    inner join hits
        on
            windows.customer_key = hits.customer_key
            and windows.snapshot_kind = hits.snapshot_kind
            and windows.label_window_start = hits.label_window_start
)

select * from final
