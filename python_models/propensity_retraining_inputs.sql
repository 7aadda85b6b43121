{#- What the propensity registry decides with in modes auto and reuse_latest
    (microseg.propensity.retraining.decide_for_run): the run's segmentation fit
    (latest row of segment_model) on every row, with one segment_drift row each
    (one row with null drift when there is none). In mode retrain (the default)
    nothing is decided: the view is empty and reads no segmentation model, so
    the registry trains as soon as propensity_features and propensity_labels
    exist, beside the segmentation chain instead of after it (a ref inside the
    if is a dependency only when the var renders it at parse time). -#}
{{ config(materialized='view', schema='ml') }}
{%- if var('microseg__propensity_model_mode') | string | trim | lower == 'retrain' %}

select
    cast(null as varchar) as fit_id,
    cast(null as timestamp) as fitted_at,
    cast(null as date) as as_of_date,
    cast(null as timestamp) as drift_fitted_at,
    cast(null as varchar) as drift_kind,
    cast(null as double) as psi
where false
{%- else %}

with

fits as (
    select
        fit_id,
        fitted_at,
        as_of_date
    from {{ ref('segment_model') }}
),

drift as (
    select
        fitted_at,
        drift_kind,
        psi
    from {{ ref('segment_drift') }}
),

current_fit as (
    select * from fits
    order by fitted_at desc, fit_id desc
    limit 1
),

final as (
    select
        current_fit.fit_id,
        current_fit.fitted_at,
        current_fit.as_of_date,
        drift.fitted_at as drift_fitted_at,
        drift.drift_kind,
        drift.psi
    from current_fit
    left join drift on true
)

select * from final
{%- endif %}
