{#- Similarity in [0, 1] of two cleaned names: the better of Jaro-Winkler and
    one minus the Damerau-Levenshtein distance over the longer length. Jaro-
    Winkler alone punishes a single typo in a short name (`jörg` / `jrg` = 0.51,
    `ida` / `iad` = 0.56); the edit-distance form keeps those at 0.67-0.75.
    Null when either name is null. -#}
{% macro name_similarity(a, b) -%}
    greatest(
        jaro_winkler_similarity({{ a }}, {{ b }}),
        1.0 - damerau_levenshtein({{ a }}, {{ b }}) / greatest(length({{ a }}), length({{ b }}), 1)
    )
{%- endmacro %}

{#- True when two first names cannot be one person's: more than one edit apart
    and not close by Jaro-Winkler either (a typo is one edit; `daniel` /
    `daniela` stays compatible, `anna` / `paul` does not). Null when either is
    null. -#}
{% macro first_names_conflict(a, b) -%}
    (damerau_levenshtein({{ a }}, {{ b }}) > 1 and jaro_winkler_similarity({{ a }}, {{ b }}) < 0.9)
{%- endmacro %}
