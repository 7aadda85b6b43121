{#- Raw text as staging wants it: surrounding whitespace (spaces, tabs, line
    breaks, no-break spaces) removed; blank text and placeholders an export
    writes for "no value" (`NULL`, `null`, `N/A`, `none`, `nil`, `nan`,
    `undefined`, `-`, `?`, any casing) -> null. A key or a required value
    that is a placeholder is therefore missing, never a real id. The list is a
    constant here, not a var: the Python PII hash (microseg/pii.py) and its
    test render this file with plain jinja. -#}
{% macro clean_text(expr) -%}
    {%- set trimmed = "trim(" ~ expr ~ ", ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13) || chr(160))" -%}
    case
        when lower({{ trimmed }}) not in ('', 'null', 'n/a', 'none', 'nil', 'nan', 'undefined', '-', '?')
            then {{ trimmed }}
    end
{%- endmacro %}
