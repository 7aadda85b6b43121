{#- A boolean SQL expression holds for every row (optional `where` restricts
    the rows checked). Used on a column, the column name is put in front of
    the expression (`column_name: quantity`, `expression: "<> 0"`). A row
    where the expression is null fails too: write the null case into the
    expression when null is acceptable. Returns the offending rows. -#}
{% test expression_is_true(model, expression, column_name=none, where=none) %}
    {%- set condition = (column_name ~ ' ' ~ expression) if column_name else expression -%}

with checked as (
    select *
    from {{ model }}
    {%- if where %}
    where {{ where }}
    {%- endif %}
)

select *
from checked
where not coalesce({{ condition }}, false)
{% endtest %}
