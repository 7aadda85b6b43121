{#- The CRM keep rule: a record rejected as duplicate_key lost to a staged
    record with the same crm id that is at least as recent (updated_at), or to
    a kept row that failed another check. Returns duplicate_key rejects that
    have no such winner. -#}
with

rejected as (
    select * from {{ ref('stg_crm__customers_rejected') }}
    where reject_reason = 'duplicate_key'
),

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

base as (
    select * from {{ ref('base_crm__customers') }}
),

kept_but_rejected_otherwise as (
    -- the kept row of a crm id is its one row not rejected as duplicate_key
    select crm_customer_id from base
    where
        crm_customer_id is not null
        and reject_reason is not null
        and reject_reason <> 'duplicate_key'
),

final as (
    select
        rejected.crm_id,
        rejected.updated_at as rejected_updated_at,
        customers.updated_at as kept_updated_at
    from rejected
    left join customers on trim(rejected.crm_id) = customers.crm_customer_id
    left join kept_but_rejected_otherwise on trim(rejected.crm_id) = kept_but_rejected_otherwise.crm_customer_id
    where
        kept_but_rejected_otherwise.crm_customer_id is null
        and (
            customers.crm_customer_id is null
            or customers.updated_at < {{ to_utc_timestamp('rejected.updated_at') }}
        )
)

select * from final
