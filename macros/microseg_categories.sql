{#- The canonical product categories, as data: the distinct `category` values
    of seed category_map (in order of first appearance) plus `other`, read at
    compile time, so a grocer's forty departments are forty columns of every
    per-category share, affinity and target. Var microseg__categories, when not
    null, overrides the seed (it must then contain `other`).

    Models call it under `execute` (the seed is built first: every caller
    depends on seed category_map through the ref below). Before the seed
    table exists (the on-run-start config check on a fresh database) it
    returns none; callers that only validate skip the category check then.
    At parse time it returns the placeholder ['other'] (no SQL is run). A
    category that is not a lower-case identifier ([a-z][a-z0-9_]*, it becomes
    part of column names) stops the run with one line naming the seed. -#}
{% macro microseg_categories(required=true) -%}
    {%- set override = var('microseg__categories', none) -%}
    {%- if override -%}
        {{ return(override | list) }}
    {%- endif -%}
    {%- if required -%}
        {%- set seed = ref('category_map') -%}
    {%- else -%}
        {%- set seed = none -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'seed' and node.name == 'category_map' -%}
            {%- set seed = adapter.get_relation(node.database, node.schema, node.alias) -%}
            {%- do return(microseg_categories_from(seed) if seed is not none else none) -%}
        {%- endfor -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(microseg_categories_from(seed)) }}
{%- endmacro %}

{% macro microseg_categories_from(seed) -%}
    {%- if not execute -%}
        {{ return(['other']) }}
    {%- endif -%}
    {%- set query -%}
        select category from {{ seed }}
        where category is not null and category <> 'other'
        group by category
        order by min(rowid), category
    {%- endset -%}
    {%- set categories = run_query(query).columns[0].values() | list -%}
    {%- for category in categories -%}
        {%- if modules.re.fullmatch('[a-z][a-z0-9_]*', category) is none -%}
            {{ exceptions.raise_compiler_error(
                "seed category_map: category '" ~ category ~ "' must be a lower-case identifier "
                ~ "([a-z][a-z0-9_]*): it becomes part of column names") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(categories + ['other']) }}
{%- endmacro %}
