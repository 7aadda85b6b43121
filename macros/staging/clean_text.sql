{#- Raw text as staging wants it: surrounding whitespace (spaces, tabs, line
    breaks, no-break spaces) removed; blank text and placeholders an export
    writes for "no value" (`NULL`, `null`, `N/A`, `none`, `nil`, `nan`,
    `undefined`, `-`, `?`, any casing) -> null. A key or a required value
    that is a placeholder is therefore missing, never a real id. The list is a
    constant here, not a var: the Python PII hash (microseg/pii.py) and its
    test render this file with plain jinja. The whitespace is stripped with an
    anchored regexp_replace, not DuckDB's trim(text, characters), which gives
    the same text but costs five times the CPU (3.9 M event ids: 2.5 s -> 0.5 s;
    docs/decisions.md "staging text cost"). -#}
{% macro clean_text(expr) -%}
    {%- set space = "[ \\t\\n\\x0b\\x0c\\r\\x{a0}]" -%}
    {%- set trimmed = "regexp_replace(" ~ expr ~ ", '^" ~ space ~ "+|" ~ space ~ "+$', '', 'g')" -%}
    case
        when lower({{ trimmed }}) not in ('', 'null', 'n/a', 'none', 'nil', 'nan', 'undefined', '-', '?')
            then {{ trimmed }}
    end
{%- endmacro %}
