{#- The order side past the base tables (int_behaviour__order_lines,
    int_behaviour__orders; docs/incremental.md "Orders and order lines: the
    order as the unit"). An incremental run rebuilds every order touched
    since the model's watermark (macro microseg_fact_watermark), each with all
    of its lines, from the staged rows. Its pre-hook deletes the rows of every
    order whose base unit was rebuilt (macro microseg_delete_rebuilt_units):
    an order now rejected or erased goes with its lines; the other rows of the
    batch are replaced on the model's unique key, so a line moved to another
    order by a new copy of its id is replaced in that order's batch. A line
    cannot leave the staged lines while its order stays: a new copy that
    fails a check never outranks the staged one, and a line is erased through
    its order id, so its order is erased too. -#}


{#- The order ids an incremental run rebuilds (a query of order_id): those of
    the base_shop__orders and base_shop__order_lines rows rebuilt since the
    watermark, staged or rejected (a line that moved to another order or was
    outranked by a new copy of its id leaves a rejected row with the order it
    had; an erased row keeps no order id, but its order is erased too and goes
    by its unit), and every staged order resolved through an identifier the
    identity diff changed since then (its customer, or when the identifier was
    linked, moved). A run's base rows are written together, so the zone maps
    on _processed_at skip the older row groups. -#}
{% macro microseg_rebuilt_order_ids() -%}
    {%- set since = microseg_fact_watermark() -%}
    select rebuilt.order_id
    from {{ ref('base_shop__orders') }} as rebuilt
    where rebuilt._processed_at > {{ since }} and rebuilt.order_id is not null
    union
    select rebuilt_lines.order_id
    from {{ ref('base_shop__order_lines') }} as rebuilt_lines
    where rebuilt_lines._processed_at > {{ since }} and rebuilt_lines.order_id is not null
    union
    select relinked.order_id
    from {{ ref('stg_shop__orders') }} as relinked
    where {{ microseg_resolved_through_changed_identifier(microseg_order_identifiers(), since, 'relinked') }}
{%- endmacro %}


{#- pre-hook of a mart that shows an incremental intermediate table row for
    row (fct_orders, fct_order_lines): delete the rows whose `key` the
    intermediate table no longer holds (an order rejected, erased or moved
    away). Rows the intermediate table wrote since the mart's watermark come
    back with the batch (delete+insert on `key`). An anti-join on the key: the
    mart cannot read the base units the intermediate table was rebuilt from.
    Nothing in a full build. -#}
{% macro microseg_delete_gone_rows(key, upstream) -%}
    {%- if execute and is_incremental() -%}
        delete from {{ this }}
        where not exists (
            select 1
            from {{ upstream }} as kept
            where kept.{{ key }} = {{ this }}.{{ key }}
        )
    {%- endif -%}
{%- endmacro %}
