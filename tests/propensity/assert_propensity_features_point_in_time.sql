{#- No feature reads data after its as-of date. Each snapshot of
    propensity_features is recomputed by the same macro from inputs physically
    cut at the snapshot's date (orders after it, events that happened or
    arrived after it, and their lines, are deleted first). Any difference
    between the model and the recomputation means the model read something
    the cut removed: a future order, a late event, a later line. The training
    snapshot has the whole label window after its date in the data, so the
    cut is never empty there. Returns the differing rows, both directions. -#}
{%- set snapshot_names = ['training', 'scoring'] %}
with

features as (
    select * from {{ ref('propensity_features') }}
),

{%- for snapshot_name in snapshot_names %}

dates_{{ snapshot_name }} as (
    select distinct feature_as_of_date as cut_date
    from features
    where snapshot = '{{ snapshot_name }}'
),

orders_{{ snapshot_name }} as (
    select o.*
    from {{ ref('fct_orders') }} as o
    where o.order_date <= (select cut_date from dates_{{ snapshot_name }})
),

lines_{{ snapshot_name }} as (
    select l.*
    from {{ ref('stg_shop__order_lines') }} as l
    inner join orders_{{ snapshot_name }} as o on l.order_id = o.order_id
),

events_{{ snapshot_name }} as (
    select e.*
    from {{ ref('fct_events') }} as e
    where
        e.event_date <= (select cut_date from dates_{{ snapshot_name }})
        and cast(coalesce(e.received_at, e.event_at) as date) <= (select cut_date from dates_{{ snapshot_name }})
),

recomputed_{{ snapshot_name }} as (
    {{ propensity_customer_features(
        'orders_' ~ snapshot_name, 'lines_' ~ snapshot_name, 'events_' ~ snapshot_name,
        '(select cut_date from dates_' ~ snapshot_name ~ ')'
    ) }}
),

model_{{ snapshot_name }} as (
    select * exclude (snapshot)
    from features
    where snapshot = '{{ snapshot_name }}'
),

differences_{{ snapshot_name }} as (
    (
        select
            '{{ snapshot_name }}' as snapshot,
            'in model, not in recomputation' as finding,
            *
        from (select * from model_{{ snapshot_name }} except all select * from recomputed_{{ snapshot_name }})
    )
    union all
    (
        select
            '{{ snapshot_name }}' as snapshot,
            'in recomputation, not in model' as finding,
            *
        from (select * from recomputed_{{ snapshot_name }} except all select * from model_{{ snapshot_name }})
    )
),
{%- endfor %}

final as (
    select * from differences_training
    union all
    select * from differences_scoring
)

select * from final
