{#- Probabilistic links between CRM records (typo duplicates, a person in both
    CRMs without a shared email or phone). Candidate pairs come from blocking,
    so only records sharing a block key are compared:
      - postcode + birth year,
      - birth date + first two letters of the last name (people who moved),
      - postcode + first-name initial + last-name initial (birth date missing).
    Blocks larger than var microseg__identity_max_block_size are skipped (a
    default postcode on thousands of rows would otherwise explode the join).

    match_score = 0.30 first-name similarity + 0.30 last-name similarity
                + 0.20 birth date (1 equal, 0.5 unknown on either side, 0 different)
                + 0.20 place (1 same postcode, 0.25 same city only, 0 otherwise);
    name similarity is macro name_similarity (Jaro-Winkler / Damerau-Levenshtein).
    A pair is a match when match_score >= var microseg__identity_match_threshold
    (default 0.87): records with different known birth dates (at most 0.80) or in
    different cities (at most 0.80) never reach it; a one-typo pair with the same
    birth date and postcode scores 0.90 or more. The name similarities (the
    cost: Jaro-Winkler and Damerau-Levenshtein) are computed only for pairs
    whose birth date and place let them reach the threshold; every candidate
    pair is still returned, the others with null similarities and score and
    is_match false. Reads cleaned names from staging; holds only ids and
    scores.

    `crm_relation` needs crm_customer_id, source_system, first_name_clean,
    last_name_clean, birth_date, birth_year, city and postcode. With
    `anchor_relation` (a relation with a crm_customer_id column) only pairs
    with at least one anchored record are compared: the erasure closure
    (stg_privacy__erased_identifiers) matches the erased records this way. -#}
{% macro crm_fuzzy_matches(crm_relation, anchor_relation=none) -%}
with

crm as (
    select
        crm_customer_id,
        source_system,
        first_name_clean,
        last_name_clean,
        birth_date,
        birth_year,
        city,
        postcode
    from {{ crm_relation }}
),

block_keys as (
    select
        crm_customer_id,
        'postcode_birth_year' as block_name,
        postcode || '|' || cast(birth_year as varchar) as block_key
    from crm
    where postcode is not null and birth_year is not null
    union all
    select
        crm_customer_id,
        'birth_date_last_name' as block_name,
        cast(birth_date as varchar) || '|' || left(last_name_clean, 2) as block_key
    from crm
    where birth_date is not null and last_name_clean is not null
    union all
    select
        crm_customer_id,
        'postcode_initials' as block_name,
        postcode || '|' || left(first_name_clean, 1) || left(last_name_clean, 1) as block_key
    from crm
    where postcode is not null and first_name_clean is not null and last_name_clean is not null
),

usable_blocks as (
    select
        block_name,
        block_key
    from block_keys
    group by block_name, block_key
    having count(*) between 2 and {{ var('microseg__identity_max_block_size') }}
),

blocked as (
    select
        block_keys.*,
        {%- if anchor_relation %}
            block_keys.crm_customer_id in (select anchors.crm_customer_id from {{ anchor_relation }} as anchors)
                as is_anchor
        {%- else %}
            false as is_anchor
        {%- endif %}
    from block_keys
    inner join usable_blocks
        on
            block_keys.block_name = usable_blocks.block_name
            and block_keys.block_key = usable_blocks.block_key
),
{%- if anchor_relation %}

-- only blocks holding an anchored record are compared
anchored_blocks as (
    select distinct
        block_name,
        block_key
    from blocked
    where is_anchor
),
{%- endif %}

candidate_pairs as (
    select
        left_block.crm_customer_id as left_id,
        right_block.crm_customer_id as right_id,
        -- the blocks shared, in name order: three flags rather than an
        -- ordered string_agg(distinct ...) per pair
        concat_ws(
            ',',
            case when bool_or(left_block.block_name = 'birth_date_last_name') then 'birth_date_last_name' end,
            case when bool_or(left_block.block_name = 'postcode_birth_year') then 'postcode_birth_year' end,
            case when bool_or(left_block.block_name = 'postcode_initials') then 'postcode_initials' end
        ) as blocking_keys
    from blocked as left_block
    {%- if anchor_relation %}
        inner join anchored_blocks
            on
                left_block.block_name = anchored_blocks.block_name
                and left_block.block_key = anchored_blocks.block_key
    {%- endif %}
    inner join blocked as right_block
        on
            left_block.block_name = right_block.block_name
            and left_block.block_key = right_block.block_key
            and left_block.crm_customer_id < right_block.crm_customer_id
    {%- if anchor_relation %}
        where
            left_block.is_anchor or right_block.is_anchor
    {%- endif %}
    group by left_block.crm_customer_id, right_block.crm_customer_id
),

compared as (
    select
        left_crm.source_system as left_source,
        candidate_pairs.left_id,
        right_crm.source_system as right_source,
        candidate_pairs.right_id,
        candidate_pairs.blocking_keys,
        left_crm.first_name_clean as left_first_name,
        right_crm.first_name_clean as right_first_name,
        left_crm.last_name_clean as left_last_name,
        right_crm.last_name_clean as right_last_name,
        case
            when left_crm.birth_date = right_crm.birth_date then 1.0
            when left_crm.birth_date is null or right_crm.birth_date is null then 0.5
            else 0.0
        end as birth_date_score,
        case
            when left_crm.postcode = right_crm.postcode then 1.0
            when left_crm.city = right_crm.city then 0.25
            else 0.0
        end as place_score
    from candidate_pairs
    inner join crm as left_crm on candidate_pairs.left_id = left_crm.crm_customer_id
    inner join crm as right_crm on candidate_pairs.right_id = right_crm.crm_customer_id
),

-- names score at most 1 each, so a pair scores at most 0.60 + 0.20 birth
-- date + 0.20 place: the string similarities are computed only for pairs
-- whose bound reaches the threshold (a 1e-9 margin against float rounding
-- only widens that set); the others keep null similarities and score
reachable as (
    select
        *,
        0.60 + 0.20 * birth_date_score + 0.20 * place_score
        >= {{ var('microseg__identity_match_threshold') }} - 1e-9 as can_match
    from compared
),

name_scored as (
    select
        left_source,
        left_id,
        right_source,
        right_id,
        blocking_keys,
        case
            when can_match then coalesce({{ name_similarity('left_first_name', 'right_first_name') }}, 0)
        end as first_name_similarity,
        case
            when can_match then coalesce({{ name_similarity('left_last_name', 'right_last_name') }}, 0)
        end as last_name_similarity,
        birth_date_score,
        place_score
    from reachable
),

scored as (
    select
        *,
        round(
            0.30 * first_name_similarity
            + 0.30 * last_name_similarity
            + 0.20 * birth_date_score
            + 0.20 * place_score,
            4
        ) as match_score
    from name_scored
),

final as (
    select
        left_source,
        left_id,
        right_source,
        right_id,
        blocking_keys,
        round(first_name_similarity, 4) as first_name_similarity,
        round(last_name_similarity, 4) as last_name_similarity,
        birth_date_score,
        place_score,
        match_score,
        coalesce(match_score >= {{ var('microseg__identity_match_threshold') }}, false) as is_match
    from scored
)

select * from final
{%- endmacro %}
