{#- A deterministic uniform number in [0, 1) from a salt and a key: the first
    8 hex digits of md5(salt || '|' || key) over 2^32. md5 is fixed by its
    definition (unlike DuckDB's hash(), which may change between versions), so
    the same salt and key give the same bucket on every run, rebuild and
    engine. `salt` is a literal string, `key_expr` an SQL expression. -#}
{% macro activation_bucket(salt, key_expr) -%}
    (cast(('0x' || left(md5('{{ salt | replace("'", "''") }}' || '|' || ({{ key_expr }})), 8)) as ubigint)
        / 4294967296.0)
{%- endmacro %}


{#- True for a customer in the global holdout (var microseg__activation_holdout_share
    of customers, bucketed with var microseg__activation_holdout_salt). -#}
{% macro is_global_holdout(customer_key_expr) -%}
    ({{ activation_bucket(var('microseg__activation_holdout_salt'), customer_key_expr) }}
        < {{ var('microseg__activation_holdout_share') }})
{%- endmacro %}


{#- An audience rule cell that lists allowed values separated by '|': null
    (empty cell) matches everything, otherwise the value must be listed. -#}
{% macro activation_rule_matches(rule_expr, value_expr) -%}
    ({{ rule_expr }} is null
        or list_contains(list_transform(string_split({{ rule_expr }}, '|'), lambda x: trim(x)), cast({{ value_expr }} as varchar)))
{%- endmacro %}


{#- The export folder: var microseg__export_path, rendered (its default is
    itself a template: MICROSEG_EXPORT_PATH, else `exports` beside the raw folder). -#}
{% macro activation_export_folder() -%}
    {{- return(render(var('microseg__export_path')) | trim) -}}
{%- endmacro %}


{#- Location of an export file: <export folder>/<name>.<microseg__export_format>. -#}
{% macro activation_export_location(name) -%}
    {{- return(activation_export_folder() ~ '/' ~ name ~ '.' ~ var('microseg__export_format')) -}}
{%- endmacro %}
