{#- Every value an audience rule lists exists where the rule reads it: RFM
    segments of seed rfm_segments, propensity tiers, order channels of var
    microseg__channels, canonical categories of seed category_map. A typo
    would otherwise match nobody, silently. Returns audience, rule, value. -#}
with

audiences as not materialized (
    select * from {{ ref('audiences') }}
),

rfm_segments as not materialized (
    select * from {{ ref('rfm_segments') }}
),

category_map as not materialized (
    select * from {{ ref('category_map') }}
),

known as (
    select
        'rule_rfm_segments' as rule_column,
        rfm_segment as known_value
    from rfm_segments
    union all
    select
        'rule_propensity_tiers' as rule_column,
        unnest(['high', 'medium', 'low']) as known_value
    {%- for channel in var('microseg__channels') %}
        union all
        select
            'rule_preferred_channels' as rule_column,
            '{{ channel }}' as known_value
    {%- endfor %}
    union all
    select distinct
        'rule_affinity_category' as rule_column,
        category as known_value
    from category_map
    union all
    select
        'rule_affinity_category' as rule_column,
        'other' as known_value
),

listed as (
    {%- for rule_column in ['rule_rfm_segments', 'rule_propensity_tiers', 'rule_preferred_channels',
                            'rule_affinity_category'] %}
        select
            audience_name,
            '{{ rule_column }}' as rule_column,
            trim(unnest(string_split({{ rule_column }}, '|'))) as listed_value
        from audiences
        {{- '\n        union all' if not loop.last }}
    {%- endfor %}
)

select listed.*
from listed
left join known
    on
        listed.rule_column = known.rule_column
        and listed.listed_value = known.known_value
where known.known_value is null
