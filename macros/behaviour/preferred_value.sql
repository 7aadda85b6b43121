{#- The value with the largest count among columns <prefix><value><suffix>
    (one per value of `values`), null when every count is 0 or null. Ties go
    to the alphabetically first value so a rebuild never flips a preference.
    `digits`: compare the columns rounded to this many decimals (money: 2). A sum
    of doubles over the same rows in another order (an incremental chain, a full
    refresh) differs in its last bits, which turned an equal spend into a winner. -#}
{% macro preferred_value(prefix, values, suffix='', digits=none) -%}
    {%- set columns = {} -%}
    {%- for value in values -%}
        {%- set column = 'coalesce(' ~ prefix ~ value ~ suffix ~ ', 0)' -%}
        {%- do columns.update({value: column if digits is none else 'round(' ~ column ~ ', ' ~ digits ~ ')'}) -%}
    {%- endfor -%}
    {%- set largest = 'greatest(' ~ columns.values() | join(', ') ~ ')' -%}
    case
        when {{ largest }} > 0 then
            case
                {%- for value in values | sort %}
                    when {{ columns[value] }} = {{ largest }} then '{{ value }}'
                {%- endfor %}
            end
    end
{%- endmacro %}
