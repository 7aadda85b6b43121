{#- Every metric of the propensity model in use, long and typed for BI. Filter
    on table_name: summary (roc_auc, pr_auc, brier_score, log_loss,
    top_decile_lift, counts; one row per scorer and metric), deciles (bucket =
    score decile, 10 = highest), calibration (bucket = probability bin of
    width 0.1) and feature_importance (feature, gain and
    mean_abs_contribution). evaluation_set: cross_validation (out-of-fold
    predictions on the training snapshot, stored when the model was trained)
    or forward (current scores against what happened after as_of_date, when
    the data covers the horizon). scorer: model, recency, rfm, bgnbd. -#}
with

evaluation as (
    select * from {{ ref('propensity_evaluation') }}
),

final as (
    select
        cast(model_id as varchar) as model_id,
        cast(as_of_date as date) as as_of_date,
        cast(evaluation_set as varchar) as evaluation_set,
        cast(table_name as varchar) as table_name,
        cast(scorer as varchar) as scorer,
        cast(metric as varchar) as metric,
        cast(bucket as integer) as bucket,
        cast(feature as varchar) as feature,
        cast(metric_value as double) as metric_value
    from evaluation
)

select * from final
