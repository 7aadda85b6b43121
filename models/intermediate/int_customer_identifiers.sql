{#- Every identifier with its customer, in the vocabulary the order and event
    models look up (crm_id, email_hash, phone_hash, anonymous_id). A customer is
    a connected component of the identity graph (int_identity__components);
    customer_key is the md5 of the component's representative identifier, so it
    is the same on every rebuild of the same data, held as a UUID (the same 128
    bits) through the intermediate layer: every join and group by on it compares
    16 bytes instead of a 32-character string. The marts publish the 32 hex
    digits as text (macro customer_key_from_uuid; singular test
    assert_customer_key_text_outside_intermediate). linked_at: when the
    identifier became tied to its customer by links all known by then (null:
    always, e.g. the representative); a row attributed through it is known
    for the customer no earlier (the behaviour layer's known_at). -#}
with

components as (
    select * from {{ ref('int_identity__components') }}
),

final as (
    select
        case
            when source in ('crm_a', 'crm_b') then 'crm_id'
            when source = 'email' then 'email_hash'
            when source = 'phone' then 'phone_hash'
            else source
        end as identifier_type,
        source_id as identifier_value,
        {{ customer_key_as_uuid('md5(customer_seed)') }} as customer_key,
        source,
        cast(component_size as bigint) as component_size,
        cast(linked_at as timestamp) as linked_at
    from components
)

select * from final
