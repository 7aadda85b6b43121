{#- The customer key is a UUID inside the intermediate layer (int_customer_identifiers
    on: identity, behaviour, features; 16 bytes to join and group on instead of a
    32-character string, docs/decisions.md "The customer key is a UUID in the
    intermediate layer") and its 32 hex digits as text in every table a BI tool, an
    export, a snapshot or a Python model reads. A model that reads the intermediate
    layer converts it (macro customer_key_from_uuid); one that forgets would still
    join (DuckDB casts text to UUID in a comparison) but publish another type, and
    would hash the dashed form where it concatenates the key (activation buckets).
    Returns every UUID column outside the intermediate schema. The depends_on lines
    are the models that read the intermediate layer, so the test runs after them. -#}
-- depends_on: {{ ref('customer_identity_map') }}
-- depends_on: {{ ref('dim_customers') }}
-- depends_on: {{ ref('fct_events') }}
-- depends_on: {{ ref('fct_orders') }}
-- depends_on: {{ ref('fct_order_lines') }}
-- depends_on: {{ ref('mart_customer_rfm') }}
-- depends_on: {{ ref('mart_customer_engagement') }}
-- depends_on: {{ ref('mart_customer_features') }}
-- depends_on: {{ ref('propensity_features') }}
-- depends_on: {{ ref('customer_value_features') }}
-- depends_on: {{ ref('first_purchase_snapshots') }}
-- depends_on: {{ ref('experiment_assignments') }}
-- depends_on: {{ ref('audience_suppressions') }}
with

columns as (
    select
        table_schema,
        table_name,
        column_name,
        data_type
    from information_schema.columns
    where table_catalog = '{{ target.database }}'
),

final as (
    select *
    from columns
    where
        data_type = 'UUID'
        and table_schema != '{{ generate_schema_name('intermediate', none) | trim }}'
)

select * from final
