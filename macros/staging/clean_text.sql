{#- Raw text as staging wants it: surrounding whitespace removed, blank -> null. -#}
{% macro clean_text(expr) -%}
    nullif(trim({{ expr }}), '')
{%- endmacro %}
