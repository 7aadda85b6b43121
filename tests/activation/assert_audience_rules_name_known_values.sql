{#- Every value an audience rule lists exists where the rule reads it: RFM
    segments of seed rfm_segments, propensity tiers, canonical categories of
    seed category_map, order channels of var microseg__channels. A typo
    would otherwise match nobody, silently. Returns audience, rule, value. -#}
with

audiences as (
    select * from {{ ref('audiences') }}
),

rfm_segments as (
    select rfm_segment as known_value from {{ ref('rfm_segments') }}
),

categories as (
    select distinct category as known_value from {{ ref('category_map') }}
    union all
    select 'other' as known_value
),

listed as (
    select
        audience_name,
        'rule_rfm_segments' as rule,
        trim(unnest(string_split(rule_rfm_segments, '|'))) as listed_value
    from audiences
    union all
    select
        audience_name,
        'rule_propensity_tiers' as rule,
        trim(unnest(string_split(rule_propensity_tiers, '|'))) as listed_value
    from audiences
    union all
    select
        audience_name,
        'rule_preferred_channels' as rule,
        trim(unnest(string_split(rule_preferred_channels, '|'))) as listed_value
    from audiences
    union all
    select
        audience_name,
        'rule_affinity_category' as rule,
        rule_affinity_category as listed_value
    from audiences
    where rule_affinity_category is not null
)

select listed.*
from listed
where
    (listed.rule = 'rule_rfm_segments' and listed.listed_value not in (select known_value from rfm_segments))
    or (listed.rule = 'rule_propensity_tiers' and listed.listed_value not in ('high', 'medium', 'low'))
    or (
        listed.rule = 'rule_preferred_channels'
        and listed.listed_value not in ('{{ var("microseg__channels") | join("', '") }}')
    )
    or (listed.rule = 'rule_affinity_category' and listed.listed_value not in (select known_value from categories))
