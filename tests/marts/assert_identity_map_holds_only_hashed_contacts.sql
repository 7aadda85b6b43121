{#- No raw email or phone in the identity graph or its map: every email and
    phone identifier is a 64-character sha256 hex digest, and no identifier
    holds an @. Returns the offending rows. -#}
with

identity_map as (
    select
        'customer_identity_map' as model_name,
        source,
        source_id
    from {{ ref('customer_identity_map') }}
),

excluded as (
    select
        'int_identity__excluded_identifiers' as model_name,
        identifier_source as source,
        identifier_id as source_id
    from {{ ref('int_identity__excluded_identifiers') }}
),

identifiers as (
    select * from identity_map
    union all
    select * from excluded
),

final as (
    select *
    from identifiers
    where
        contains(source_id, '@')
        or (source in ('email', 'phone') and not regexp_full_match(source_id, '[0-9a-f]{64}'))
)

select * from final
