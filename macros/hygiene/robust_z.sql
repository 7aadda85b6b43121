{#- Robust z-scores (Iglewicz and Hoaglin's modified z): (x - median) / scale,
    with scale = 1.4826 * MAD (median absolute deviation; 1.4826 makes it
    estimate a standard deviation under normality). When more than half the
    values are equal the MAD is 0; the scale then falls back to 1.2533 * the
    mean absolute deviation from the median (the same estimate for the mean
    deviation), and when that is 0 too every value is the median and the
    z-score is null.

    robust_z_stats(relation, columns, group_by): a select with <column>_median
    and <column>_scale for each column, over the non-null values of relation:
    one row, or one row per value of the column group_by (e.g. a category).
    robust_z(column, stats, alias): the z-score of column (of relation alias
    `alias`, optional) given the alias of the stats relation. -#}
{% macro robust_z_stats(relation, columns, group_by=none) -%}
    select
        {%- if group_by %}
            medians.{{ group_by }},
        {%- endif %}
        {%- for column in columns %}
            medians.{{ column }}_median,
            coalesce(
                nullif(1.4826 * median(abs(cast(values_.{{ column }} as double) - medians.{{ column }}_median)), 0),
                nullif(1.2533 * avg(abs(cast(values_.{{ column }} as double) - medians.{{ column }}_median)), 0)
            ) as {{ column }}_scale{{ "," if not loop.last }}
        {%- endfor %}
    from {{ relation }} as values_
    {{ 'inner' if group_by else 'cross' }} join (
        select
            {%- if group_by %}
                {{ group_by }},
            {%- endif %}
            {%- for column in columns %}
                median(cast({{ column }} as double)) as {{ column }}_median{{ "," if not loop.last }}
            {%- endfor %}
        from {{ relation }}
        {%- if group_by %}
            group by {{ group_by }}
        {%- endif %}
    ) as medians
    {%- if group_by %}
        on values_.{{ group_by }} = medians.{{ group_by }}
    {%- endif %}
    group by all
{%- endmacro %}

{% macro robust_z(column, stats, alias=none) -%}
    (cast({{ (alias ~ '.' ~ column) if alias else column }} as double) - {{ stats }}.{{ column }}_median)
    / {{ stats }}.{{ column }}_scale
{%- endmacro %}
