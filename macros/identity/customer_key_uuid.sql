{#- The customer key (the md5 of its representative identifier, 32 lowercase
    hex digits) as a UUID, the same 128 bits, and back. int_customer_identifiers
    makes it a UUID and the intermediate layer keeps it so; a model that
    publishes it (marts, activation) turns it back into the text with
    customer_key_from_uuid, and one that joins a published text key to the
    intermediate layer may cast that side with customer_key_as_uuid. The UUID is
    16 bytes, compared as two integers, instead of a 32-character string: at 1,000,000 persons a
    group by customer_key over the 6.4 M behaviour orders took 0.17-0.19 s
    against 0.37-0.39 s, a join and group 0.56-0.58 s against 1.10-1.42 s
    (docs/decisions.md "Customer keys as UUIDs inside a model"). UUIDs sort as
    their text does, so an order by the key is unchanged. A key that is not 32
    hex digits fails the cast ("Could not convert string ... to UUID"): it can
    only come from a change to how customer keys are made. -#}
{% macro customer_key_as_uuid(column) -%}
    cast({{ column }} as uuid)
{%- endmacro %}


{% macro customer_key_from_uuid(column) -%}
    replace(cast({{ column }} as varchar), '-', '')
{%- endmacro %}


{#- `relation`'s rows with customer_key as a UUID: a published relation (text key) joined to the intermediate
    layer's keys (fct_events in propensity_features, the RFM and engagement marts in mart_customer_features). -#}
{% macro select_with_customer_key_as_uuid(relation) -%}
    select * replace ({{ customer_key_as_uuid('customer_key') }} as customer_key)
    from {{ relation }}
{%- endmacro %}


{#- `relation`'s rows with customer_key back as its text: an intermediate relation read by a model that
    publishes or hashes the key (the activation models' email campaigns, first_purchase_snapshots). -#}
{% macro select_with_customer_key_as_text(relation) -%}
    select * replace ({{ customer_key_from_uuid('customer_key') }} as customer_key)
    from {{ relation }}
{%- endmacro %}
