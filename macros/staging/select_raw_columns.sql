{#- Select list of a raw table's contract columns (raw_columns) as text, each
    renamed raw_<column>, comma-separated without a trailing comma. The cast
    keeps staging working when a Parquet export types a column. -#}
{% macro select_raw_columns(table_name) -%}
    {%- for column in raw_columns(table_name) %}
        cast({{ column }} as varchar) as raw_{{ column }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
