{#- Category association rules "orders with antecedent also hold consequent",
    from the sold lines of fct_order_lines (returns excluded), over every
    order (segment_name '(all)') and per segment of the ordering customer
    (customer_segments) when the segment placed at least var
    microseg__basket_min_segment_orders orders. Per rule: support_share (share of
    the scope's orders holding both), confidence (share of orders with the
    antecedent that also hold the consequent) and lift (confidence over the
    consequent's own share: 1 = independent). Kept when support and confidence
    reach vars microseg__basket_min_support / _min_confidence. -#}
with

order_lines as (
    select * from {{ ref('fct_order_lines') }}
    where not is_return and quantity > 0
),

segments as (
    select * from {{ ref('customer_segments') }}
),

order_categories as materialized (
    -- an order belongs to one customer, so to at most one segment
    select distinct
        order_lines.order_id,
        order_lines.category,
        segments.segment_name
    from order_lines
    left join segments on order_lines.customer_key = segments.customer_key
),

{# Every count is taken once per order and rolled up to both scopes: the segment of the order
    (orders without one have no segment scope) and '(all)' (rollup of the segment). Pairs are joined once,
    not once per scope (1,000,000 persons: 31.7 M scoped pairs joined -> 15.9 M). #}
scope_orders as (
    select
        case when is_rollup then '(all)' else segment_name end as segment_name,
        order_count
    from (
        select
            grouping(segment_name) = 1 as is_rollup,
            segment_name,
            count(distinct order_id) as order_count
        from order_categories
        group by rollup(segment_name)
    ) as counted
    where is_rollup or (segment_name is not null and order_count >= {{ var('microseg__basket_min_segment_orders') }})
),

category_orders as (
    select
        case when is_rollup then '(all)' else segment_name end as segment_name,
        category,
        category_order_count
    from (
        select
            grouping(segment_name) = 1 as is_rollup,
            segment_name,
            category,
            count(*) as category_order_count
        from order_categories
        group by category, rollup(segment_name)
    ) as counted
    where is_rollup or segment_name is not null
),

pair_orders as (
    select
        case when is_rollup then '(all)' else segment_name end as segment_name,
        antecedent_category,
        consequent_category,
        pair_order_count
    from (
        select
            grouping(antecedent.segment_name) = 1 as is_rollup,
            antecedent.segment_name,
            antecedent.category as antecedent_category,
            consequent.category as consequent_category,
            count(*) as pair_order_count
        from order_categories as antecedent
        inner join order_categories as consequent
            on
                antecedent.order_id = consequent.order_id
                and antecedent.category != consequent.category
        group by antecedent.category, consequent.category, rollup(antecedent.segment_name)
    ) as counted
    where is_rollup or segment_name is not null
),

rules as (
    select
        pair_orders.segment_name,
        pair_orders.antecedent_category,
        pair_orders.consequent_category,
        scope_orders.order_count,
        pair_orders.pair_order_count,
        pair_orders.pair_order_count / scope_orders.order_count as support_share,
        pair_orders.pair_order_count / antecedents.category_order_count as confidence,
        (pair_orders.pair_order_count / antecedents.category_order_count)
        / (consequents.category_order_count / scope_orders.order_count) as lift
    from pair_orders
    inner join scope_orders on pair_orders.segment_name = scope_orders.segment_name
    inner join category_orders as antecedents
        on
            pair_orders.segment_name = antecedents.segment_name
            and pair_orders.antecedent_category = antecedents.category
    inner join category_orders as consequents
        on
            pair_orders.segment_name = consequents.segment_name
            and pair_orders.consequent_category = consequents.category
),

final as (
    select
        md5(segment_name || '|' || antecedent_category || '|' || consequent_category) as rule_key,
        segment_name,
        antecedent_category,
        consequent_category,
        order_count,
        pair_order_count,
        cast(support_share as double) as support_share,
        cast(confidence as double) as confidence,
        cast(lift as double) as lift,
        cast(rank() over (partition by segment_name order by lift desc) as integer) as lift_rank
    from rules
    where
        support_share >= {{ var('microseg__basket_min_support') }}
        and confidence >= {{ var('microseg__basket_min_confidence') }}
)

select * from final
