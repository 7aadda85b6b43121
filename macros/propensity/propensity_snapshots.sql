{#- The snapshots propensity_features holds, as (name, snapshot_kind, days
    before as_of_date): one 'training' snapshot per k = 1 ..
    microseg__propensity_training_snapshots at k x
    microseg__propensity_horizon_days, then 'scoring' at as_of_date. The model,
    customer_value_features (which reads the snapshots whose dates it shares)
    and the point-in-time test take them from here, so the three never
    disagree on a date. -#}
{% macro propensity_snapshots() -%}
    {%- set horizon = var('microseg__propensity_horizon_days') | int -%}
    {%- set snapshots = [] -%}
    {%- for k in range(1, (var('microseg__propensity_training_snapshots') | int) + 1) -%}
        {%- do snapshots.append(('training_' ~ k, 'training', k * horizon)) -%}
    {%- endfor -%}
    {%- do snapshots.append(('scoring', 'scoring', 0)) -%}
    {{ return(snapshots) }}
{%- endmacro %}
