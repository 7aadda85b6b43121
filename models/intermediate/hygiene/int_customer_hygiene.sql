{#- Feature hygiene for the marts that follow (features, segmentation,
    propensity), one row per known (not anonymous) customer of int_customers, as of
    int_as_of_date:

    - missing values imputed by a documented rule, each with is_<col>_imputed:
      numbers with the lower median of the known values (birth_year,
      household_size, interest scores), categories with the mode (gender,
      region, income_band); the fill values are computed over all customers;
    - RFM measures (int_customer_rfm, net of returns) kept as they are and
      flagged, never clipped: a robust z-score per measure over purchasing
      customers, on the signed log scale sign(x) * ln(1 + |x|) because spend
      and order counts are right-skewed, and is_<col>_outlier when |z| exceeds
      var microseg__feature_outlier_robust_z (default 3.5).

    Customers without a purchase have null RFM measures (no purchase is not a
    missing value to impute) and is_<col>_outlier false. -#}
{%- set threshold = var('microseg__feature_outlier_robust_z', 3.5) -%}
{%- set interests = [] -%}
{%- for interest in var('microseg__interests') -%}
    {%- do interests.append('interest_' ~ interest) -%}
{%- endfor -%}
{%- set rfm_measures = ['frequency', 'monetary_eur', 'avg_order_value_eur'] -%}
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

customers as (
    select
        customer_key,
        email_hash,
        birth_year,
        gender,
        region
    from {{ ref('int_customers') }}
    -- device-only visitors have no profile to impute and no purchases to flag
    where not is_anonymous
),

third_party as (
    select * from {{ ref('stg_enrichment__third_party') }}
),

rfm as (
    select
        {%- for measure in rfm_measures %}
            {{ measure }},
            {{ signed_log1p(measure) }} as {{ measure }}_log,
        {%- endfor %}
        customer_key,
        recency_days
    from {{ ref('int_customer_rfm') }}
),

observed as (
    -- the features as the upstream models have them, nulls included
    select
        customers.customer_key,
        customers.birth_year,
        customers.gender,
        customers.region,
        third_party.income_band,
        third_party.household_size,
        {%- for interest in interests %}
            third_party.{{ interest }},
        {%- endfor %}
        third_party.email_hash is not null as has_enrichment
    from customers
    left join third_party on customers.email_hash = third_party.email_hash
),

fill_values as (
    -- one row: the value each feature gets when it is missing
    select
        {%- for interest in interests %}
            {{ impute_median('observed', interest) }} as {{ interest }},
        {%- endfor %}
        {{ impute_median('observed', 'birth_year') }} as birth_year,
        {{ impute_mode('observed', 'gender') }} as gender,
        {{ impute_mode('observed', 'region') }} as region,
        {{ impute_mode('observed', 'income_band') }} as income_band,
        {{ impute_median('observed', 'household_size') }} as household_size
),

imputed as (
    select
        {%- for interest in interests %}
            coalesce(observed.{{ interest }}, fill_values.{{ interest }}) as {{ interest }},
            observed.{{ interest }} is null as is_{{ interest }}_imputed,
        {%- endfor %}
        observed.customer_key,
        observed.has_enrichment,
        coalesce(observed.birth_year, fill_values.birth_year) as birth_year,
        observed.birth_year is null as is_birth_year_imputed,
        coalesce(observed.gender, fill_values.gender) as gender,
        observed.gender is null as is_gender_imputed,
        coalesce(observed.region, fill_values.region) as region,
        observed.region is null as is_region_imputed,
        coalesce(observed.income_band, fill_values.income_band) as income_band,
        observed.income_band is null as is_income_band_imputed,
        coalesce(observed.household_size, fill_values.household_size) as household_size,
        observed.household_size is null as is_household_size_imputed
    from observed
    cross join fill_values
),

rfm_stats as (
    {%- set log_measures = [] %}
    {%- for measure in rfm_measures %}
        {%- do log_measures.append(measure ~ '_log') %}
    {%- endfor %}
    {{ robust_z_stats('rfm', log_measures) }}
),

rfm_scored as (
    select
        {%- for measure in rfm_measures %}
            rfm.{{ measure }},
            cast(round({{ robust_z(measure ~ '_log', 'rfm_stats', alias='rfm') }}, 4) as double)
                as {{ measure }}_robust_z,
        {%- endfor %}
        rfm.customer_key,
        rfm.recency_days
    from rfm
    left join rfm_stats on true
),

final as (
    select
        imputed.customer_key,
        as_of.as_of_date,
        cast(imputed.birth_year as integer) as birth_year,
        imputed.is_birth_year_imputed,
        cast(year(as_of.as_of_date) - imputed.birth_year as integer) as age_years,
        imputed.gender,
        imputed.is_gender_imputed,
        imputed.region,
        imputed.is_region_imputed,
        imputed.has_enrichment,
        imputed.income_band,
        imputed.is_income_band_imputed,
        cast(imputed.household_size as integer) as household_size,
        imputed.is_household_size_imputed,
        {%- for interest in interests %}
            cast(imputed.{{ interest }} as double) as {{ interest }},
            imputed.is_{{ interest }}_imputed,
        {%- endfor %}
        rfm_scored.customer_key is not null as has_purchase,
        {%- for measure in rfm_measures %}
            rfm_scored.{{ measure }},
            rfm_scored.{{ measure }}_robust_z,
            coalesce(abs(rfm_scored.{{ measure }}_robust_z) > {{ threshold }}, false) as is_{{ measure }}_outlier,
        {%- endfor %}
        rfm_scored.recency_days
    from imputed
    cross join as_of
    left join rfm_scored on imputed.customer_key = rfm_scored.customer_key
)

select * from final
