{{ config(severity='warn') }}
{#- The model's ROC-AUC is not below the best baseline (recency only, RFM
    score, BG/NBD expected purchases) on the same rows, per evaluation set
    (cross-validation on the training snapshot; forward when the data covers
    the horizon after as_of_date). Warns rather than fails: a model that loses
    to a baseline on some data is news for the analyst, not a broken build.
    Returns the evaluation sets where a baseline wins. -#}
with

auc as (
    select
        evaluation_set,
        scorer,
        metric_value as roc_auc
    from {{ ref('propensity_model_metrics') }}
    where table_name = 'summary' and metric = 'roc_auc'
),

compared as (
    select
        evaluation_set,
        max(roc_auc) filter (where scorer = 'model') as model_roc_auc,
        max(roc_auc) filter (where scorer <> 'model') as best_baseline_roc_auc,
        arg_max(scorer, roc_auc) filter (where scorer <> 'model') as best_baseline
    from auc
    group by evaluation_set
),

final as (
    select * from compared
    where model_roc_auc is null or model_roc_auc < best_baseline_roc_auc
)

select * from final
