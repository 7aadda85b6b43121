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

order_categories as (
    select distinct
        order_lines.order_id,
        order_lines.category,
        segments.segment_name
    from order_lines
    left join segments on order_lines.customer_key = segments.customer_key
),

scoped as (
    select
        '(all)' as segment_name,
        order_id,
        category
    from order_categories
    union all
    select
        segment_name,
        order_id,
        category
    from order_categories
    where segment_name is not null
),

scope_orders as (
    select
        segment_name,
        count(distinct order_id) as order_count
    from scoped
    group by segment_name
    having segment_name = '(all)' or count(distinct order_id) >= {{ var('microseg__basket_min_segment_orders') }}
),

category_orders as (
    select
        segment_name,
        category,
        count(*) as category_order_count
    from scoped
    group by segment_name, category
),

pair_orders as (
    select
        antecedent.segment_name,
        antecedent.category as antecedent_category,
        consequent.category as consequent_category,
        count(*) as pair_order_count
    from scoped as antecedent
    inner join scoped as consequent
        on
            antecedent.segment_name = consequent.segment_name
            and antecedent.order_id = consequent.order_id
            and antecedent.category != consequent.category
    group by antecedent.segment_name, antecedent.category, consequent.category
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
