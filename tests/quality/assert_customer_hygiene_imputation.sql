{#- int_customer_hygiene imputes only what is missing and clips nothing:
    - is_<col>_imputed is true exactly when dim_customers has no value, the
      kept value equals dim_customers' value, and every imputed value of a
      column is one and the same fill value;
    - the RFM measures equal mart_customer_rfm's, and is_<col>_outlier is
      |robust z| > the threshold.
    Returns one row per violated rule and column with the number of
    customers. -#}
{%- set threshold = var('microseg__feature_outlier_robust_z', 3.5) -%}
{%- set imputed_columns = ['birth_year', 'gender', 'region'] -%}
{%- set rfm_measures = ['frequency', 'monetary_eur', 'avg_order_value_eur'] -%}
with

hygiene as not materialized (
    select * from {{ ref('int_customer_hygiene') }}
),

customers as not materialized (
    select * from {{ ref('dim_customers') }}
),

rfm as not materialized (
    select * from {{ ref('mart_customer_rfm') }}
),

checks as (
    {%- for column in imputed_columns %}
        select
            '{{ column }}' as column_name,
            count(*) filter (
                where hygiene.is_{{ column }}_imputed <> (customers.{{ column }} is null)
            ) as flag_mismatches,
            count(*) filter (
                where not hygiene.is_{{ column }}_imputed and hygiene.{{ column }} <> customers.{{ column }}
            ) as changed_known_values,
            count(distinct hygiene.{{ column }}) filter (where hygiene.is_{{ column }}_imputed) > 1
                as has_several_fill_values
        from hygiene
        inner join customers on hygiene.customer_key = customers.customer_key
        union all
    {%- endfor %}
    {%- for measure in rfm_measures %}
        select
            '{{ measure }}' as column_name,
            count(*) filter (
                where hygiene.is_{{ measure }}_outlier
                <> coalesce(abs(hygiene.{{ measure }}_robust_z) > {{ threshold }}, false)
            ) as flag_mismatches,
            count(*) filter (
                where hygiene.{{ measure }} is distinct from rfm.{{ measure }}
            ) as changed_known_values,
            false as has_several_fill_values
        from hygiene
        left join rfm on hygiene.customer_key = rfm.customer_key
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from checks
where flag_mismatches > 0 or changed_known_values > 0 or has_several_fill_values
