{#- Normalized email (data contract): trimmed, lower-cased, blank -> null. -#}
{% macro normalize_email(expr) -%}
    lower({{ clean_text(expr) }})
{%- endmacro %}
