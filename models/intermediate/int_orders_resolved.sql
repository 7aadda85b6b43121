{#- Staged orders with their customer: the customer of the CRM id, else of
    the guest email (macro with_resolved_customer, as for events). Orders whose
    customer reference cannot be resolved keep customer_key null (counted, not
    dropped). Line totals in
    EUR are added in behaviour/int_behaviour__orders, which needs the lines
    (and the lines need this customer). -#}
select
    order_id,
    customer_key,
    identity_linked_at,
    ordered_at,
    order_date,
    channel,
    payment_method,
    currency
from (
    {{ with_resolved_customer(
        ref('stg_shop__orders'), ref('int_customer_identifiers'),
        microseg_order_identifiers()
    ) }}
) as orders
