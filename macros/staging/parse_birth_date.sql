{#- A birth date from text: ISO (YYYY-MM-DD) first, then DD/MM/YYYY (crm_b's
    format); null when neither parses. -#}
{% macro parse_birth_date(expr) -%}
    coalesce(
        try_cast({{ clean_text(expr) }} as date),
        try_strptime({{ clean_text(expr) }}, '%d/%m/%Y')::date
    )
{%- endmacro %}
