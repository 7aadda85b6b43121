{#- Text -> integer, null when blank, unparseable, not a whole number or out of
    the integer range. A plain try_cast would round `2.5` to 3; `2.0` is
    accepted as 2. Surrounding whitespace is allowed. -#}
{% macro try_cast_integer(expr) -%}
    case
        when regexp_full_match({{ expr }}, '\s*[+-]?[0-9]+(\.0*)?\s*')
            then try_cast(try_cast({{ expr }} as double) as integer)
    end
{%- endmacro %}
