{#- The row rules of one model in one test (one dbt node, one scan) instead of
    one test per column and kind. Returns one row per failing (row, rule):
    `failed_rule` names the rule (column, kind and what it expects, e.g.
    `gender accepted_values: female, male, diverse`), then the row's columns.

    not_null: list of columns that are never null.
    rules: list of rules, each one of
      {column, accepted_values: [...]}     accepted_values: every non-null value is one
                                           of the list (quoted unless quote: false)
      {column, min_value, max_value}       accepted_range: every non-null value lies in
                                           the range (either bound optional; inclusive,
                                           min_inclusive, max_inclusive as accepted_range)
      {expression} or {column, expression} expression_is_true: true for every row (a null
                                           result fails); on a column, the column name is
                                           put in front of the expression (`<> 0`)
      {column, imputed_flag}               imputed_not_null: never null unless no row of the
                                           model has an observed value (every row imputed)
      {column, canonical_category: true}   canonical_category: every non-null value is a
                                           canonical category (seed category_map) or other
    and optionally `where` (only rows where it holds are checked for that rule).
    Rules of another severity, or whose test needs a config `where`, stay
    separate tests, so a warning never hides inside an error test. -#}
{% test column_rules(model, not_null=none, rules=none) %}
    {%- set checks = [] %}
    {%- set observed = [] %}
    {%- for column in not_null or [] %}
        {%- do checks.append({"label": column ~ " not_null", "fails": column ~ " is null"}) %}
    {%- endfor %}
    {%- for r in rules or [] %}
        {%- if r is string or r is not mapping -%}
            {{ exceptions.raise_compiler_error("column_rules: each rule is a mapping; got " ~ r) }}
        {%- endif %}
        {%- if r.accepted_values is defined %}
            {%- if r.accepted_values is string or r.accepted_values is not iterable -%}
                {{ exceptions.raise_compiler_error("column_rules: accepted_values is a list; got " ~ r) }}
            {%- endif %}
            {%- if r.quote is defined and not r.quote %}
                {%- set listed = r.accepted_values | join(", ") %}
            {%- else %}
                {%- set quoted = [] %}
                {%- for v in r.accepted_values %}{% do quoted.append("'" ~ (v | string | replace("'", "''")) ~ "'") %}{% endfor %}
                {%- set listed = quoted | join(", ") %}
            {%- endif %}
            {%- set label = r.column ~ " accepted_values: " ~ (r.accepted_values | join(", ")) %}
            {%- set fails = "coalesce(" ~ r.column ~ " not in (" ~ listed ~ "), false)" %}
        {%- elif r.min_value is defined or r.max_value is defined %}
            {%- set inclusive = r.inclusive if r.inclusive is defined else true %}
            {%- set min_op = '>=' if (r.min_inclusive if r.min_inclusive is defined else inclusive) else '>' %}
            {%- set max_op = '<=' if (r.max_inclusive if r.max_inclusive is defined else inclusive) else '<' %}
            {%- set parts = [] %}
            {%- if r.min_value is defined %}{% do parts.append(r.column ~ ' ' ~ min_op ~ ' ' ~ r.min_value) %}{% endif %}
            {%- if r.max_value is defined %}{% do parts.append(r.column ~ ' ' ~ max_op ~ ' ' ~ r.max_value) %}{% endif %}
            {%- set label = r.column ~ " accepted_range: " ~ (parts | join(" and ")) %}
            {%- set fails = "coalesce(" ~ r.column ~ " is not null and not (" ~ (parts | join(" and ")) ~ "), false)" %}
        {%- elif r.expression is defined %}
            {%- set condition = (r.column ~ ' ' ~ r.expression) if r.column is defined else r.expression %}
            {%- set label = "expression_is_true: " ~ condition %}
            {%- set fails = "not coalesce(" ~ condition ~ ", false)" %}
        {%- elif r.imputed_flag is defined %}
            {%- set label = r.column ~ " imputed_not_null: unless every row has " ~ r.imputed_flag %}
            {%- do observed.append(r.imputed_flag) %}
            {%- set fails = r.column ~ " is null and coalesce((select has_observed_" ~ (observed | length) ~ " from observed), false)" %}
        {%- elif r.canonical_category is defined and r.canonical_category %}
            {%- set label = r.column ~ " canonical_category" %}
            {%- set fails = "coalesce(" ~ r.column ~ " not in ('" ~ (microseg_categories() | join("', '")) ~ "'), false)" %}
        {%- else %}
            {{ exceptions.raise_compiler_error("column_rules: a rule needs values, min_value/max_value, expression, imputed_flag or canonical_category; got " ~ r) }}
        {%- endif %}
        {%- if (r.column is not defined) and not (r.expression is defined) -%}
            {{ exceptions.raise_compiler_error("column_rules: this rule needs a column; got " ~ r) }}
        {%- endif %}
        {%- if r.where is defined %}
            {%- set label = label ~ " where " ~ r.where %}
            {%- set fails = "coalesce(" ~ r.where ~ ", false) and " ~ fails %}
        {%- endif %}
        {%- do checks.append({"label": label, "fails": fails}) %}
    {%- endfor %}
    {%- if checks | length == 0 -%}
        {{ exceptions.raise_compiler_error("column_rules needs not_null columns or rules") }}
    {%- endif %}

with
{%- if observed %}
observed as (
    -- per imputed_flag: does any row have an observed (not imputed) value?
    select
        {%- for flag in observed %}
            bool_or(not ({{ flag }})) as has_observed_{{ loop.index }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ model }}
),
{%- endif %}

failing_rows as (
    select
        unnest([
            {%- for check in checks %}
                case when {{ check.fails }} then '{{ check.label | replace("'", "''") }}' end{{ "," if not loop.last }}
            {%- endfor %}
        ]) as failed_rule,
        *
    from {{ model }}
    where
        {%- for check in checks %}
            ({{ check.fails }}){{ " or" if not loop.last }}
        {%- endfor %}
)

select *
from failing_rows
where failed_rule is not null
{% endtest %}
