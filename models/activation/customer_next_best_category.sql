{#- Next best category per customer: the category the customer has not bought
    yet (sold lines of fct_order_lines) with the highest lift of a rule
    (basket_category_rules) from a category they did buy; the rules of their
    own segment when it has its own, else the rules over all orders. One row
    per customer with at least one such rule; ties broken by confidence, then
    category name. -#}
with

order_lines as (
    select * from {{ ref('fct_order_lines') }}
    where not is_return and quantity > 0 and customer_key is not null
),

rules as not materialized (
    select * from {{ ref('basket_category_rules') }}
),

segments as (
    select * from {{ ref('customer_segments') }}
),

bought as (
    select distinct
        customer_key,
        category
    from order_lines
),

customer_scope as (
    select
        customers.customer_key,
        case
            when segments.segment_name in (select rules.segment_name from rules) then segments.segment_name
            else '(all)'
        end as segment_name
    from (select distinct customer_key from bought) as customers
    left join segments on customers.customer_key = segments.customer_key
),

candidates as (
    select
        customer_scope.customer_key,
        customer_scope.segment_name as rule_scope,
        rules.consequent_category as category,
        max(rules.lift) as lift,
        max(rules.confidence) as confidence,
        -- the antecedent of the highest lift; equal lifts to the first antecedent by name (same on every build)
        arg_min(rules.antecedent_category, (-rules.lift, rules.antecedent_category)) as because_of_category
    from customer_scope
    inner join bought on customer_scope.customer_key = bought.customer_key
    inner join rules
        on
            customer_scope.segment_name = rules.segment_name
            and bought.category = rules.antecedent_category
    left join bought as already
        on
            customer_scope.customer_key = already.customer_key
            and rules.consequent_category = already.category
    where already.customer_key is null
    group by customer_scope.customer_key, customer_scope.segment_name, rules.consequent_category
),

ranked as (
    select
        *,
        row_number() over (
            partition by customer_key order by lift desc, confidence desc, category asc
        ) as candidate_rank
    from candidates
),

final as (
    select
        customer_key,
        category as next_best_category,
        cast(lift as double) as lift,
        cast(confidence as double) as confidence,
        because_of_category,
        rule_scope
    from ranked
    where candidate_rank = 1
)

select * from final
