{#- Generic tests over the canonical category list (macro microseg_categories,
    read from seed category_map), so no yml hard-codes the list.

    category_shares_sum: per row, the category_<kind>_<category> columns
    (one per canonical category) sum to 0 or 1 (2 decimals).
    unit_range_columns: every column of the model whose name fully matches
    the regular expression `pattern` (rates, shares, affinities: the
    per-category columns are named by pattern) lies in [0, 1]; the model must
    have at least one such column. Returns the offending rows. -#}
{% test category_shares_sum(model, prefix) %}
    {%- set columns = [] %}
    {%- for category in microseg_categories() %}{% do columns.append(prefix ~ category) %}{% endfor %}
    select *
    from {{ model }}
    where round({{ columns | join(' + ') }}, 2) not in (0, 1)
{% endtest %}

{% test unit_range_columns(model, pattern) %}
    {%- set columns = [] %}
    {%- if execute %}
        {%- for column in adapter.get_columns_in_relation(model)
            if modules.re.fullmatch(pattern, column.name) is not none %}
            {%- do columns.append(adapter.quote(column.name)) %}
        {%- endfor %}
        {%- if not columns %}
            {{ exceptions.raise_compiler_error("unit_range_columns: no column of " ~ model ~ " matches " ~ pattern) }}
        {%- endif %}
    {%- endif %}
    select *
    from {{ model }}
    where false
    {%- for column in columns %}
        or {{ column }} < 0 or {{ column }} > 1
    {%- endfor %}
{% endtest %}

{#- recipe_feature: every value names a feature of the clustering recipe
    (seed segment_features), directly or through a pattern row
    (`category_affinity_*`), and is not dropped by a `drop` row. -#}
{% test recipe_feature(model, column_name, recipe) %}
    select m.{{ column_name }}
    from {{ model }} as m
    where not exists (
        select 1 from {{ recipe }} as r
        where r.transform <> 'drop' and m.{{ column_name }} like replace(r.feature, '*', '%')
    )
    or exists (
        select 1 from {{ recipe }} as r
        where r.transform = 'drop' and m.{{ column_name }} like replace(r.feature, '*', '%')
    )
{% endtest %}
