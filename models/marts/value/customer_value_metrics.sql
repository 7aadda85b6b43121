{#- Metrics of the customer value and churn models, typed for BI: one row per
    evaluation set (cross_validation on the training snapshots, forward on
    the scores when the data covers the windows after as_of_date), subject
    (value, churn), scorer (model, btyd or a churn baseline) and metric. -#}
with

evaluation as (
    select * from {{ ref('customer_value_evaluation') }}
),

final as (
    select
        cast(as_of_date as date) as as_of_date,
        cast(evaluation_set as varchar) as evaluation_set,
        cast(subject as varchar) as subject,
        cast(scorer as varchar) as scorer,
        cast(metric as varchar) as metric,
        cast(metric_value as double) as metric_value
    from evaluation
)

select * from final
