{#- A birth date from text: ISO (YYYY-MM-DD) or DD/MM/YYYY (crm_b's format);
    null when blank, a placeholder or neither format. Only digits in these two
    shapes are read: a plain date cast would also take `infinity`, `epoch` or
    `today`. Plausibility (1900 .. today) is birth_date_reason's job. -#}
{% macro parse_birth_date(expr) -%}
    case
        when regexp_full_match({{ clean_text(expr) }}, '\d{4}-\d{1,2}-\d{1,2}')
            then try_cast({{ clean_text(expr) }} as date)
        when regexp_full_match({{ clean_text(expr) }}, '\d{1,2}/\d{1,2}/\d{4}')
            then try_strptime({{ clean_text(expr) }}, '%d/%m/%Y')::date
    end
{%- endmacro %}
