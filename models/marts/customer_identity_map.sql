{#- Every identifier seen in any source with the customer it resolves to. source
    and source_id use the generator's truth vocabulary (crm_a, crm_b, email,
    phone, anonymous_id; emails and phones as salted hashes), so truth joins
    directly. -#}
with

identifiers as (
    select * from {{ ref('int_customer_identifiers') }}
),

final as (
    select
        source,
        identifier_value as source_id,
        {{ customer_key_from_uuid('customer_key') }} as customer_key
    from identifiers
)

select * from final
