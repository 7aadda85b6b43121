{#- Every listed column of the model is not null, checked in one scan instead
    of one query (and one dbt node) per column. Returns one row per column that
    has nulls: column_name and null_rows. Optional `where` restricts the rows
    checked. -#}
{% test not_null_columns(model, columns, where=none) %}
    {%- if columns is string or columns | length == 0 -%}
        {{ exceptions.raise_compiler_error("not_null_columns needs a non-empty list of column names") }}
    {%- endif %}

with counts as (
    select
        {%- for column in columns %}
            count(*) filter (where {{ column }} is null) as nulls_{{ loop.index }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ model }}
    {%- if where %}
        where {{ where }}
    {%- endif %}
)

{% for column in columns %}
    select
        '{{ column }}' as column_name,
        nulls_{{ loop.index }} as null_rows
    from counts
    where nulls_{{ loop.index }} > 0
    {{ "union all" if not loop.last }}
{% endfor %}
{% endtest %}
