{#- Quintile score 1..5 of `column` across all rows of the window, highest
    values scoring 5 (pass descending=true to make the lowest values score 5).
    Ties share a score (rank(), not ntile()), so the score is deterministic and
    two customers with the same value never land in different quintiles. -#}
{% macro quintile_score(column, descending=false) -%}
    cast(1 + floor(
        5.0 * (rank() over (order by {{ column }} {{ 'desc' if descending else 'asc' }}) - 1)
        / count(*) over ()
    ) as integer)
{%- endmacro %}
