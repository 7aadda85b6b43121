{#- accepted_range for several columns of one model in one scan: every non-null
    value of each column lies in [min_value, max_value] (either bound optional;
    `inclusive` applies to both, or set min_inclusive / max_inclusive). `ranges`
    is a list of {column, min_value, max_value, ...}. Returns one row per column
    with values outside its range: column_name, the accepted range, the number
    of rows outside and the observed minimum and maximum. -#}
{% test accepted_ranges(model, ranges, where=none) %}
    {%- if ranges is string or ranges | length == 0 -%}
        {{ exceptions.raise_compiler_error("accepted_ranges needs a non-empty list of {column, min_value, max_value}") }}
    {%- endif %}
    {%- set checks = [] %}
    {%- for r in ranges %}
        {%- if r.column is not defined or (r.min_value is not defined and r.max_value is not defined) -%}
            {{ exceptions.raise_compiler_error("accepted_ranges: each range needs column and min_value, max_value or both; got " ~ r) }}
        {%- endif %}
        {%- set inclusive = r.inclusive if r.inclusive is defined else true %}
        {%- set min_op = '>=' if (r.min_inclusive if r.min_inclusive is defined else inclusive) else '>' %}
        {%- set max_op = '<=' if (r.max_inclusive if r.max_inclusive is defined else inclusive) else '<' %}
        {%- set parts = [] %}
        {%- if r.min_value is defined %}{% do parts.append(r.column ~ ' ' ~ min_op ~ ' ' ~ r.min_value) %}{% endif %}
        {%- if r.max_value is defined %}{% do parts.append(r.column ~ ' ' ~ max_op ~ ' ' ~ r.max_value) %}{% endif %}
        {%- do checks.append({"column": r.column, "condition": parts | join(" and ")}) %}
    {%- endfor %}

with counts as (
    select
        {%- for check in checks %}
            count(*) filter (where {{ check.column }} is not null and not ({{ check.condition }})) as outside_{{ loop.index }},
            min({{ check.column }}) as min_{{ loop.index }},
            max({{ check.column }}) as max_{{ loop.index }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ model }}
    {%- if where %}
        where {{ where }}
    {%- endif %}
)

{% for check in checks %}
    select
        '{{ check.column }}' as column_name,
        '{{ check.condition | replace("'", "''") }}' as accepted,
        outside_{{ loop.index }} as rows_outside,
        cast(min_{{ loop.index }} as varchar) as observed_min,
        cast(max_{{ loop.index }} as varchar) as observed_max
    from counts
    where outside_{{ loop.index }} > 0
    {{ "union all" if not loop.last }}
{% endfor %}
{% endtest %}
