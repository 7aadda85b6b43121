{#- The giant-component guard: identifiers that must not link the CRM records
    that carry them, with the reason. A shared family email, a household
    landline, a placeholder such as test@test.com or a shared device would
    otherwise merge different people, and through them their whole components.

    - too_many_records: the identifier is linked to more CRM records than var
      microseg__identity_max_records_per_identifier (default 5).
    - conflicting_records: two of its records cannot be one person: both birth
      dates known and different, or first names more than one edit apart and not
      close by Jaro-Winkler (macro first_names_conflict).

    Excluded identifiers stay in customer_identity_map as customers of their own
    (a household email's guest orders belong to that household email). Reads the
    cleaned names from staging; holds only hashed ids and counts.

    `links_relation`: (record_id, identifier_source, identifier_id), one row per
    link; `crm_relation`: crm_customer_id, first_name_clean, birth_date. Used by
    int_identity__excluded_identifiers and by the erasure closure. -#}
{% macro identifier_exclusions(links_relation, crm_relation) -%}
with

links as not materialized (
    select * from {{ links_relation }}
),

crm as (
    select
        crm_customer_id,
        first_name_clean,
        birth_date
    from {{ crm_relation }}
),

shared_identifiers as (
    select
        identifier_source,
        identifier_id,
        count(distinct record_id) as record_count
    from links
    group by identifier_source, identifier_id
    having count(distinct record_id) > 1
),

-- pairs are only formed for identifiers under the cap: a placeholder on
-- thousands of records is excluded by its count alone
capped_links as (
    select links.*
    from links
    inner join shared_identifiers
        on
            links.identifier_source = shared_identifiers.identifier_source
            and links.identifier_id = shared_identifiers.identifier_id
    where shared_identifiers.record_count <= {{ var('microseg__identity_max_records_per_identifier') }}
),

record_pairs as (
    select
        left_link.identifier_source,
        left_link.identifier_id,
        left_link.record_id as left_record_id,
        right_link.record_id as right_record_id
    from capped_links as left_link
    inner join capped_links as right_link
        on
            left_link.identifier_source = right_link.identifier_source
            and left_link.identifier_id = right_link.identifier_id
            and left_link.record_id < right_link.record_id
),

conflicts as (
    select
        record_pairs.identifier_source,
        record_pairs.identifier_id,
        count(*) as conflicting_pair_count
    from record_pairs
    inner join crm as left_crm on record_pairs.left_record_id = left_crm.crm_customer_id
    inner join crm as right_crm on record_pairs.right_record_id = right_crm.crm_customer_id
    where
        left_crm.birth_date <> right_crm.birth_date
        or {{ first_names_conflict('left_crm.first_name_clean', 'right_crm.first_name_clean') }}
    group by record_pairs.identifier_source, record_pairs.identifier_id
),

final as (
    select
        shared_identifiers.identifier_source,
        shared_identifiers.identifier_id,
        case
            when shared_identifiers.record_count > {{ var('microseg__identity_max_records_per_identifier') }} then 'too_many_records'
            else 'conflicting_records'
        end as exclusion_reason,
        shared_identifiers.record_count,
        conflicts.conflicting_pair_count
    from shared_identifiers
    left join conflicts
        on
            shared_identifiers.identifier_source = conflicts.identifier_source
            and shared_identifiers.identifier_id = conflicts.identifier_id
    where
        shared_identifiers.record_count > {{ var('microseg__identity_max_records_per_identifier') }}
        or conflicts.conflicting_pair_count > 0
)

select * from final
{%- endmacro %}
