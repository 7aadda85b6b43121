{#- The raw contract (docs/data_contract.md) as column lists, one per raw
    table. Base models read exactly these columns (as text) and rejected models
    hand them back under the same names; models/sources.yml documents them. -#}
{% macro raw_columns(table_name) -%}
    {%- set columns = {
        'crm_customers': [
            'source_system', 'crm_id', 'first_name', 'last_name', 'email', 'phone',
            'birth_date', 'gender', 'city', 'region', 'postcode', 'signup_at',
            'marketing_consent', 'consent_updated_at', 'updated_at',
        ],
        'orders': ['order_id', 'customer_ref', 'ordered_at', 'currency', 'channel', 'payment_method'],
        'order_lines': [
            'order_line_id', 'order_id', 'product_category', 'quantity', 'unit_price',
            'discount_amount', 'line_amount',
        ],
        'events': [
            'event_id', 'event_type', 'event_at', 'received_at', 'anonymous_id', 'user_id',
            'session_id', 'platform', 'device', 'page_category', 'campaign_id', 'order_id',
        ],
        'third_party': [
            'email', 'interest_sustainability', 'interest_outdoors', 'interest_fashion',
            'interest_tech', 'interest_home', 'interest_deals', 'income_band', 'household_size',
            'provided_at',
        ],
        'erasure_requests': ['request_id', 'identifier_type', 'identifier_value', 'requested_at'],
    } -%}
    {{ return(columns[table_name]) }}
{%- endmacro %}
