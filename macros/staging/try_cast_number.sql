{#- Text -> double, null when blank, unparseable or not finite (`nan`, `inf`
    cast fine in DuckDB but are not numbers a business exports). The cast
    ignores surrounding whitespace. -#}
{% macro try_cast_number(expr) -%}
    case
        when isfinite(try_cast({{ expr }} as double))
            then try_cast({{ expr }} as double)
    end
{%- endmacro %}
