{#- Fill values for missing features, computed over the non-null values of
    `column` in `relation` (a CTE or relation name), as scalar subqueries.

    impute_median: the lower median (quantile_disc 0.5), so the fill value is
    a value that occurs and keeps the column's type (an integer birth year
    stays an integer).
    impute_mode: the most frequent value; ties go to the smallest value so a
    rebuild never flips the fill value. -#}
{% macro impute_median(relation, column) -%}
    (select quantile_disc({{ column }}, 0.5) from {{ relation }} where {{ column }} is not null)
{%- endmacro %}

{% macro impute_mode(relation, column) -%}
    (
        select {{ column }}
        from {{ relation }}
        where {{ column }} is not null
        group by {{ column }}
        order by count(*) desc, {{ column }} asc
        limit 1
    )
{%- endmacro %}
