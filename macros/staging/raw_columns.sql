{#- The raw contract columns of one raw table, in the order of
    models/sources.yml, read from the dbt graph: sources.yml is the one place
    the contract is written (docs/data_contract.md is generated from it). Base
    models read exactly these columns (as text) and rejected models hand them
    back under the same names.

    The graph is empty while dbt parses (the list is then empty) and while it
    compiles a unit test: then the columns come from the view raw.<table>,
    which on-run-start (microseg_raw_sources) made from the same sources.yml
    entry. A table that is not in sources.yml is an error. -#}
{% macro raw_columns(table_name) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- if graph.get('sources') -%}
        {%- for node in graph.sources.values() if node.resource_type == 'source' and node.name == table_name -%}
            {{ return(node.columns.keys() | list) }}
        {%- endfor -%}
    {%- else -%}
        {%- set view = api.Relation.create(database=target.database, schema='raw', identifier=table_name) -%}
        {#- less the load metadata the view adds after the contract columns -#}
        {%- set columns = adapter.get_columns_in_relation(view) | map(attribute='name')
            | reject('in', ['_source_file', '_loaded_at']) | list -%}
        {%- if columns -%}
            {{ return(columns) }}
        {%- endif -%}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("raw_columns: no raw table '" ~ table_name ~ "' in models/sources.yml") }}
{%- endmacro %}
