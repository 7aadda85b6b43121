{#- One row per audience (seed audiences) and customer who belongs to it.

    A customer matches an audience when every filled rule cell holds: segment
    id, niche id, RFM segment, propensity tier, preferred channel ('|'-separated
    lists), propensity decile at least rule_min_propensity_decile (10 = most
    likely), affinity to rule_affinity_category at least rule_min_affinity
    (smoothed category affinity of mart_customer_features). A value the
    customer lacks (not segmented, not scored) matches no rule on it.

    Exclusive audiences first: a customer matching several keeps only the one
    with the smallest priority (then name). Then the size cap keeps the members
    most likely to buy (propensity, then customer_key: deterministic).
    Non-exclusive audiences are capped the same way and overlap freely.
    Suppression (consent, contact, holdout, ...) comes after, in
    audience_suppressions: a member here is not yet allowed out. -#}
with

audiences as not materialized (
    select * from {{ ref('audiences') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
    where not is_anonymous
),

segments as (
    select * from {{ ref('customer_segments') }}
),

rfm as (
    select * from {{ ref('mart_customer_rfm') }}
),

scores as (
    select * from {{ ref('propensity_scores') }}
),

engagement as (
    select * from {{ ref('mart_customer_engagement') }}
),

features as (
    select * from {{ ref('mart_customer_features') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

-- one row per customer and category: every category_affinity_<category> column (macro microseg_categories)
affinity_columns as (
    unpivot (
        select
            customer_key,
            columns('^category_affinity_')
        from features
    )
    on columns(* exclude (customer_key)) into name column_name value affinity
),

affinities as (
    select
        customer_key,
        replace(column_name, 'category_affinity_', '') as category,
        affinity
    from affinity_columns
),

profiles as (
    select
        customers.customer_key,
        segments.segment_id,
        segments.segment_name,
        segments.niche_id,
        rfm.rfm_segment,
        scores.propensity,
        scores.decile as propensity_decile,
        scores.tier as propensity_tier,
        engagement.preferred_channel
    from customers
    left join segments on customers.customer_key = segments.customer_key
    left join rfm on customers.customer_key = rfm.customer_key
    left join scores on customers.customer_key = scores.customer_key
    left join engagement on customers.customer_key = engagement.customer_key
),

matches as (
    select
        audiences.audience_name,
        audiences.channel,
        audiences.priority,
        audiences.is_exclusive,
        audiences.size_cap,
        profiles.*,
        affinities.affinity as rule_affinity
    from profiles
    cross join audiences
    left join affinities
        on
            profiles.customer_key = affinities.customer_key
            and audiences.rule_affinity_category = affinities.category
    where
        {{ activation_rule_matches('audiences.rule_segment_ids', 'profiles.segment_id') }}
        and {{ activation_rule_matches('audiences.rule_niche_ids', 'profiles.niche_id') }}
        and {{ activation_rule_matches('audiences.rule_rfm_segments', 'profiles.rfm_segment') }}
        and {{ activation_rule_matches('audiences.rule_propensity_tiers', 'profiles.propensity_tier') }}
        and {{ activation_rule_matches('audiences.rule_preferred_channels', 'profiles.preferred_channel') }}
        and (
            audiences.rule_min_propensity_decile is null
            or profiles.propensity_decile >= audiences.rule_min_propensity_decile
        )
        and (
            audiences.rule_affinity_category is null
            or affinities.affinity >= audiences.rule_min_affinity
        )
),

exclusive_resolved as (
    select
        *,
        case
            when is_exclusive
                then row_number() over (
                    partition by customer_key, is_exclusive order by priority, audience_name
                )
            else 1
        end as exclusive_rank
    from matches
),

capped as (
    select
        *,
        row_number() over (
            partition by audience_name order by propensity desc nulls last, customer_key asc
        ) as audience_rank
    from exclusive_resolved
    where exclusive_rank = 1
),

final as (
    select
        md5(capped.audience_name || '|' || capped.customer_key) as audience_member_key,
        capped.audience_name,
        capped.customer_key,
        capped.channel,
        capped.priority,
        capped.is_exclusive,
        cast(capped.audience_rank as integer) as audience_rank,
        capped.segment_id,
        capped.segment_name,
        capped.niche_id,
        capped.rfm_segment,
        capped.propensity,
        capped.propensity_decile,
        capped.propensity_tier,
        capped.preferred_channel,
        capped.rule_affinity,
        as_of.as_of_date
    from capped
    cross join as_of
    where capped.size_cap is null or capped.audience_rank <= capped.size_cap
)

select * from final
