{#- The value with the largest count among columns <prefix><value><suffix>
    (one per value of `values`), null when every count is 0 or null. Ties go
    to the alphabetically first value so a rebuild never flips a preference. -#}
{% macro preferred_value(prefix, values, suffix='') -%}
    {%- set columns = [] -%}
    {%- for value in values -%}
        {%- do columns.append('coalesce(' ~ prefix ~ value ~ suffix ~ ', 0)') -%}
    {%- endfor -%}
    {%- set largest = 'greatest(' ~ columns | join(', ') ~ ')' -%}
    case
        when {{ largest }} > 0 then
            case
                {%- for value in values | sort %}
                    when coalesce({{ prefix ~ value ~ suffix }}, 0) = {{ largest }} then '{{ value }}'
                {%- endfor %}
            end
    end
{%- endmacro %}
