{#- dim_customers carries the latest consent statement across the customer's
    CRM records: is_marketing_consent equals the consent of the record with the
    latest consent_updated_at among records that state one (false when two
    records state opposite consents at the same instant: withdrawal wins),
    consent_updated_at is that instant, and a customer whose records
    state nothing is is_consent_unknown with is_marketing_consent false (so
    activation, which keeps is_marketing_consent, excludes them). Returns the
    customers that disagree. -#}
with

identifiers as (
    select
        customer_key,
        identifier_value as crm_customer_id
    from {{ ref('int_customer_identifiers') }}
    where identifier_type = 'crm_id'
),

crm as (
    select * from {{ ref('stg_crm__customers') }}
),

customers as (
    select
        customer_key,
        is_marketing_consent,
        is_consent_unknown,
        consent_updated_at
    from {{ ref('dim_customers') }}
),

statements as (
    select
        identifiers.customer_key,
        crm.is_marketing_consent,
        crm.consent_updated_at
    from crm
    inner join identifiers on crm.crm_customer_id = identifiers.crm_customer_id
    where crm.is_marketing_consent is not null
),

ranked_statements as (
    select
        *,
        rank() over (partition by customer_key order by consent_updated_at desc nulls last) as statement_rank
    from statements
),

latest_statements as (
    select
        customer_key,
        bool_or(is_marketing_consent) as is_any_latest_consent,
        bool_and(is_marketing_consent) as is_every_latest_consent,
        max(consent_updated_at) as latest_consent_updated_at
    from ranked_statements
    where statement_rank = 1
    group by customer_key
),

final as (
    select
        customers.customer_key,
        customers.is_marketing_consent,
        customers.is_consent_unknown,
        customers.consent_updated_at,
        latest_statements.is_any_latest_consent,
        latest_statements.is_every_latest_consent,
        latest_statements.latest_consent_updated_at
    from customers
    left join latest_statements on customers.customer_key = latest_statements.customer_key
    where
        (
            latest_statements.customer_key is null
            and (
                customers.is_marketing_consent
                or not customers.is_consent_unknown
                or customers.consent_updated_at is not null
            )
        )
        or (
            latest_statements.customer_key is not null
            and (
                customers.is_consent_unknown
                or (customers.is_marketing_consent and not latest_statements.is_every_latest_consent)
                or (not customers.is_marketing_consent and latest_statements.is_every_latest_consent)
                or customers.consent_updated_at is distinct from latest_statements.latest_consent_updated_at
            )
        )
)

select * from final
