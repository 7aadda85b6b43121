{#- Generic test: no two rows share the same values in `columns` (nulls compare equal). -#}
{% test unique_combination(model, columns) %}
    select
        {{ columns | join(', ') }},
        count(*) as n_rows,
    from {{ model }}
    group by all
    having count(*) > 1
{% endtest %}
