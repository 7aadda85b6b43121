{#- A person name for fuzzy matching: trimmed, inner whitespace collapsed to one
    space, lower-cased; blank -> null. -#}
{% macro clean_name(expr) -%}
    nullif(lower(trim(regexp_replace({{ expr }}, '\s+', ' ', 'g'))), '')
{%- endmacro %}
