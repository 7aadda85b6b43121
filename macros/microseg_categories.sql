{#- The canonical product categories, as data: the distinct `category` values
    of seed category_map (in order of first appearance) plus `other`, read at
    compile time, so a grocer's forty departments are forty columns of every
    per-category share, affinity and target. Var microseg__categories, when not
    null, overrides the seed (it must then contain `other`).

    Models call it under `execute` (the seed is built first: every caller
    depends on seed category_map through the ref below; required=false skips
    that ref, for the run-start hook). Before the seed table exists (the
    on-run-start config check on a fresh database, sqlfluff) it reads the seed
    file itself. At parse time it returns the placeholder ['other'] (no SQL). A
    category that is not a lower-case identifier ([a-z][a-z0-9_]*, it becomes
    part of column names) stops the run with one line naming the seed. -#}
{% macro microseg_categories(required=true) -%}
    {%- set override = var('microseg__categories', none) -%}
    {%- if override -%}
        {{ return(override | list) }}
    {%- endif -%}
    {%- if required -%}
        {#- the dependency on the seed: dbt builds it before the caller -#}
        {%- do ref('category_map') -%}
    {%- endif -%}
    {%- if not execute -%}
        {{ return(['other']) }}
    {%- endif -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'seed' and node.name == 'category_map' -%}
        {%- set relation = adapter.get_relation(node.database, node.schema, node.alias) -%}
        {#- not built yet (the run-start check on a fresh database, sqlfluff): the seed file, from the
            root of the project that holds it (installed as a package, that is not the working directory) -#}
        {%- set seed_file = (node.root_path ~ '/' if node.root_path else '') ~ node.original_file_path -%}
        {%- set source = relation if relation is not none
            else "(select * from read_csv('" ~ seed_file ~ "', header = true, delim = ',', all_varchar = true))" -%}
        {{ return(microseg_categories_from(source, relation is not none)) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("microseg_categories: seed category_map not found") }}
{%- endmacro %}

{% macro microseg_categories_from(source, is_table) -%}
    {%- set query -%}
        select category
        from (select category, {{ 'rowid' if is_table else 'row_number() over ()' }} as row_number from {{ source }})
        where category is not null and category <> 'other'
        group by category
        order by min(row_number), category
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
