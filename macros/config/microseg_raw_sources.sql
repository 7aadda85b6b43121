{#- on-run-start: point every raw source of models/sources.yml at its files,
    before any model runs. A raw table is a file <raw_path>/<table>.<format>
    and/or a folder of files <raw_path>/<table>/*.<format>; zero-byte files
    are skipped. Each source becomes the view <schema>.<table> (sources.yml:
    schema raw) selecting the contract columns by name, as text, so extra
    columns (row numbers, load ids) are ignored by every reader: base models,
    reconciliation tests, unit tests (which replace source() as usual) and
    data_quality_summary; then _source_file (the file, relative to the raw
    path) and _loaded_at (its modification time), which the incremental base
    models and microseg_load_manifest read (docs/incremental.md). An
    incremental run stops when a file an incremental model loaded was
    rewritten or removed since (microseg_check_loaded_files).

    Fails with one line, before any model runs, when a required table has no
    file or only zero-byte files, or a file lacks a contract column; an optional table without files
    logs one line and becomes an empty view, so its models build empty. -#}
{% macro microseg_raw_sources() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set raw_path = var('microseg__raw_path') | string | trim -%}
    {%- set raw_format = var('microseg__raw_format') | string | trim | lower -%}
    {%- set views = [] -%}
    {#- only this project's sources: a project installing microseg as a package keeps its own -#}
    {%- for node in graph.sources.values() | sort(attribute='unique_id') if node.package_name == 'microseg' -%}
        {%- set table = node.name -%}
        {%- set meta = node.config.get('meta') or node.meta or {} -%}
        {%- set file_path = raw_path ~ '/' ~ table ~ '.' ~ raw_format -%}
        {%- set folder_glob = raw_path ~ '/' ~ table ~ '/*.' ~ raw_format -%}
        {%- set where = file_path ~ ' or ' ~ folder_glob -%}
        {%- set found = run_query(
            "select file from glob('" ~ microseg_sql_string(file_path) ~ "')"
            ~ " union all select file from glob('" ~ microseg_sql_string(folder_glob) ~ "') order by file"
        ).columns[0].values() | list -%}
        {%- set files = [] -%}
        {%- set loaded_at = [] -%}
        {%- if found | length > 0 -%}
            {%- set blobs = run_query(
                "select filename, strftime(last_modified, '%Y-%m-%d %H:%M:%S.%f') from read_blob("
                ~ microseg_sql_list(found) ~ ") where size > 0 order by filename"
            ) -%}
            {%- set files = blobs.columns[0].values() | list -%}
            {%- set loaded_at = blobs.columns[1].values() | list -%}
        {%- endif -%}
        {%- if found | length == 0 and meta.get('required', true) -%}
            {{ exceptions.raise_compiler_error(
                "required raw source " ~ table ~ " not found at " ~ where
                ~ " (var microseg__raw_path / env MICROSEG_RAW_PATH, microseg__raw_format)"
            ) }}
        {%- elif files | length == 0 and meta.get('required', true) -%}
            {{ exceptions.raise_compiler_error(
                "required raw source " ~ table ~ " has only zero-byte files: " ~ found | join(', ')
                ~ " (an export that wrote no header and no rows)"
            ) }}
        {%- elif files | length == 0 -%}
            {%- if found | length == 0 -%}
                {{ log("source " ~ table ~ " not found at " ~ where ~ ": built empty", info=true) }}
            {%- else -%}
                {{ log("source " ~ table ~ " at " ~ where ~ " has only empty files: built empty", info=true) }}
            {%- endif -%}
        {%- endif -%}
        {%- do microseg_check_loaded_files(table, raw_format, files, loaded_at, raw_path) -%}
        {%- set columns = node.columns.keys() | list -%}
        {%- for file in files -%}
            {%- set found_columns = run_query(
                "describe select * from " ~ microseg_raw_reader([file], raw_format, with_file_name=false)
            ).columns[0].values() | map('lower') | list -%}
            {%- for column in columns if column | lower not in found_columns -%}
                {{ exceptions.raise_compiler_error(
                    "raw file " ~ file ~ " has no column " ~ column ~ " (found: " ~ found_columns | join(', ')
                    ~ (": one column, so a wrong delimiter or a malformed line; run make check-raw" if found_columns | length == 1 else "")
                    ~ ")"
                ) }}
            {%- endfor -%}
        {%- endfor -%}
        {%- set relation = api.Relation.create(database=node.database, schema=node.schema, identifier=node.identifier) -%}
        {%- set view_sql -%}
            create schema if not exists {{ relation.without_identifier() }};
            create or replace view {{ relation }} as
            select
                {%- for column in columns %}
                    {%- if files | length > 0 %}
                        cast({{ adapter.quote(column) }} as varchar) as {{ column }}
                    {%- else %}
                        cast(null as varchar) as {{ column }}
                    {%- endif %},
                {%- endfor %}
                {#- load metadata for incremental models (docs/incremental.md): the file, relative
                    to the raw path, and its modification time -#}
                {%- if files | length > 0 %}
                    case _microseg_file
                        {%- for file in files %}
                            when '{{ microseg_sql_string(file) }}'
                            then '{{ microseg_sql_string(file[raw_path | length + 1:] if file.startswith(raw_path ~ '/') else file) }}'
                        {%- endfor %}
                    end as _source_file,
                    case _microseg_file
                        {%- for file in files %}
                            when '{{ microseg_sql_string(file) }}' then timestamp '{{ loaded_at[loop.index0] }}'
                        {%- endfor %}
                    end as _loaded_at
                {%- else %}
                    cast(null as varchar) as _source_file,
                    cast(null as timestamp) as _loaded_at
                {%- endif %}
            {%- if files | length > 0 %}
                from {{ microseg_raw_reader(files, raw_format) }}
            {%- else %}
                where false
            {%- endif %}
        {%- endset -%}
        {%- do views.append(view_sql) -%}
    {%- endfor -%}
    {#- returned as the hook's SQL, which dbt runs and commits -#}
    {{ return(views | join(';\n')) }}
{%- endmacro %}


{#- Before an incremental run: every raw file of `table` that an incremental
    model loaded since its last full refresh (staging.microseg_load_manifest)
    must still be there with the modification time it was loaded with. A
    rewritten or removed file would leave the rows of its old version in the
    incremental tables (a unit is only rebuilt when a new file carries it),
    so the run stops with one line naming the file and the model, and asks
    for `dbt build --full-refresh`, which rebuilds every unit from the files
    as they are. New files are what an incremental run is for: no check. -#}
{% macro microseg_check_loaded_files(table, raw_format, files, loaded_at, raw_path) -%}
    {%- set manifest = microseg_manifest_relation() -%}
    {%- if flags.FULL_REFRESH
        or adapter.get_relation(manifest.database, manifest.schema, manifest.identifier) is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set present = [] -%}
    {%- for file in files -%}
        {%- set relative = file[raw_path | length + 1:] if file.startswith(raw_path ~ '/') else file -%}
        {%- do present.append(
            "('" ~ microseg_sql_string(relative) ~ "', timestamp '" ~ loaded_at[loop.index0] ~ "')"
        ) -%}
    {%- endfor -%}
    {%- set query -%}
        with

        present (source_file, loaded_at) as (
            {%- if present %}
                values {{ present | join(', ') }}
            {%- else %}
                select cast(null as varchar), cast(null as timestamp) where false
            {%- endif %}
        ),

        last_full_refresh as (
            select model_name, max(processed_at) as processed_at
            from {{ manifest }}
            where is_full_refresh
            group by model_name
        ),

        loaded as (
            select m.model_name, m.source_file, m.loaded_at
            from {{ manifest }} as m
            left join last_full_refresh as f on m.model_name = f.model_name
            where
                (m.source_file = '{{ table }}.{{ raw_format }}' or starts_with(m.source_file, '{{ table }}/'))
                and m.processed_at >= coalesce(f.processed_at, m.processed_at)
        )

        select
            l.model_name,
            l.source_file,
            strftime(max(l.loaded_at), '%Y-%m-%d %H:%M:%S') as loaded_at,
            strftime(max(p.loaded_at), '%Y-%m-%d %H:%M:%S') as modified_at
        from loaded as l
        left join present as p on l.source_file = p.source_file
        group by l.model_name, l.source_file
        having not coalesce(bool_or(l.loaded_at = p.loaded_at), false)
        order by l.source_file, l.model_name
        limit 1
    {%- endset -%}
    {%- set changed = run_query(query) -%}
    {%- if changed.rows | length > 0 -%}
        {%- set row = changed.rows[0] -%}
        {%- set what = (
            "was removed" if row[3] is none
            else "was rewritten (modified " ~ row[3] ~ ", loaded as of " ~ row[2] ~ ")"
        ) -%}
        {{ exceptions.raise_compiler_error(
            "raw file " ~ row[1] ~ " " ~ what ~ " since " ~ row[0] ~ " loaded it: an incremental build"
            ~ " would keep the rows of the old file; run dbt build --full-refresh (docs/incremental.md)"
        ) }}
    {%- endif -%}
{%- endmacro %}


{#- DuckDB table function reading `files` (a list of paths) as text columns,
    unioned by column name. CSV keeps DuckDB's dialect sniffing: a fixed
    dialect turns one malformed line into a sniffing error for the whole file;
    the preflight (make check-raw) reports such lines. -#}
{% macro microseg_raw_reader(files, raw_format, with_file_name=true) -%}
    {#- the file of each row, as column _microseg_file (read by the raw view's load metadata) -#}
    {%- set file_name = ", filename = '_microseg_file'" if with_file_name else "" -%}
    {%- if raw_format == 'csv' -%}
        read_csv({{ microseg_sql_list(files) }}, header = true, all_varchar = true, union_by_name = true{{ file_name }})
    {%- else -%}
        read_parquet({{ microseg_sql_list(files) }}, union_by_name = true{{ file_name }})
    {%- endif -%}
{%- endmacro %}


{% macro microseg_sql_string(text) -%}
    {{ return(text | string | replace("'", "''")) }}
{%- endmacro %}


{% macro microseg_sql_list(items) -%}
    [{%- for item in items -%}'{{ microseg_sql_string(item) }}'{{ ", " if not loop.last }}{%- endfor -%}]
{%- endmacro %}
