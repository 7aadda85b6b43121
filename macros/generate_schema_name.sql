{#- Use the layer name (staging, intermediate, marts, reference) as the schema
    instead of dbt's default "<target_schema>_<custom>", so BI tools read
    marts.mart_customer_rfm rather than main_marts.mart_customer_rfm. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
