{#- Title case (DuckDB has no initcap): whitespace collapsed, every word that
    follows a space or a hyphen starts upper-case, the rest lower-case.
    `  frankfurt am MAIN` -> `Frankfurt Am Main`, `baden-württemberg` ->
    `Baden-Württemberg`; blank -> null. -#}
{% macro title_case(expr) -%}
    nullif(
        array_to_string(
            list_transform(
                string_split(lower(trim(regexp_replace({{ expr }}, '\s+', ' ', 'g'))), ' '),
                lambda word: array_to_string(
                    list_transform(string_split(word, '-'), lambda part: upper(left(part, 1)) || substr(part, 2)),
                    '-'
                )
            ),
            ' '
        ),
        ''
    )
{%- endmacro %}
