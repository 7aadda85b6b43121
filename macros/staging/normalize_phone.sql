{#- Normalized phone (data contract): digits only, a `00` international prefix
    dropped, a single leading `0` (national trunk prefix) replaced by the
    default country code (var microseg__default_country_code). No digits ->
    null. `+49 30 1234567`, `0049 30 1234567` and `030-1234567` all become
    `49301234567`. -#}
{% macro normalize_phone(expr) -%}
    {%- set digits = "regexp_replace(coalesce(" ~ expr ~ ", ''), '[^0-9]', '', 'g')" -%}
    nullif(
        case
            when starts_with({{ digits }}, '00') then substr({{ digits }}, 3)
            when starts_with({{ digits }}, '0')
                then '{{ var("microseg__default_country_code") }}' || substr({{ digits }}, 2)
            else {{ digits }}
        end,
        ''
    )
{%- endmacro %}
