{#- A person name for fuzzy matching: trimmed, inner whitespace collapsed to one
    space, lower-cased; blank or a placeholder (clean_text) -> null. -#}
{% macro clean_name(expr) -%}
    lower(regexp_replace({{ clean_text(expr) }}, '\s+', ' ', 'g'))
{%- endmacro %}
