{#- Every non-null value of the column lies in [min_value, max_value] (either
    bound optional; `inclusive` applies to both, or set min_inclusive /
    max_inclusive separately). Optional `where` restricts the rows checked.
    Returns the offending rows. -#}
{% test accepted_range(
    model,
    column_name,
    min_value=none,
    max_value=none,
    inclusive=true,
    min_inclusive=none,
    max_inclusive=none,
    where=none
) %}
    {%- if min_value is none and max_value is none -%}
        {{ exceptions.raise_compiler_error("accepted_range needs min_value, max_value or both") }}
    {%- endif -%}
    {%- set min_op = '>=' if (inclusive if min_inclusive is none else min_inclusive) else '>' -%}
    {%- set max_op = '<=' if (inclusive if max_inclusive is none else max_inclusive) else '<' -%}

with checked as (
    select *
    from {{ model }}
    where {{ column_name }} is not null
    {%- if where %}
        and ({{ where }})
    {%- endif %}
)

select *
from checked
where
    not (
        true
        {%- if min_value is not none %}
            and {{ column_name }} {{ min_op }} {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
            and {{ column_name }} {{ max_op }} {{ max_value }}
        {%- endif %}
    )
{% endtest %}
