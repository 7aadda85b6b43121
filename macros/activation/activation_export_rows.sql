{#- Every row of the three exports as (destination, export_key, row_hash): the
    content of a row is the md5 of all its columns but as_of_date (which moves
    every build without anything changing for the destination). Shared by the
    change feed and the test that replays it. -#}
{% macro activation_export_rows() -%}
    {%- set exports = [
        ('email_platform', 'export_email_platform'),
        ('ads_platform', 'export_ads_platform'),
        ('crm', 'export_crm'),
    ] -%}
    {%- for destination, model in exports %}
    select
        '{{ destination }}' as destination,
        exported.export_key,
        md5(cast(exported as varchar)) as row_hash
    from (select * exclude (as_of_date) from {{ ref(model) }}) as exported
    {{- '\n    union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
