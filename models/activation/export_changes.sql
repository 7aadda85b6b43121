{#- The change feed of the exports, append-only: per build, one row for every
    export row that entered (new key), was updated (same key, other content)
    or exited (key gone: suppressed, erased, left the audience) since the
    previous build; unchanged rows write nothing, so a sync tool sends only the
    difference (export_changes_latest is the last build's batch, as a file).
    Content = every exported column except as_of_date, as an md5 row hash.
    The first build (or a full refresh the var allows) enters every row.
    History: survives `--full-refresh` unless var microseg__allow_history_refresh. -#}
{{ config(
    materialized='incremental',
    full_refresh=var('microseg__allow_history_refresh'),
    on_schema_change='fail',
) }}
with

current_rows as (
    {{ activation_export_rows() }}
),

previous_rows as (
    {%- if is_incremental() %}
        select
            destination,
            export_key,
            arg_max(row_hash, changed_at) as row_hash,
            arg_max(change_type, changed_at) as change_type
        from {{ this }}
        group by destination, export_key
    {%- else %}
        select
            cast(null as varchar) as destination,
            cast(null as varchar) as export_key,
            cast(null as varchar) as row_hash,
            cast(null as varchar) as change_type
        where false
    {%- endif %}
),

active_rows as (
    select * from previous_rows
    where change_type != 'exited'
),

changes as (
    select
        coalesce(current_rows.destination, active_rows.destination) as destination,
        coalesce(current_rows.export_key, active_rows.export_key) as export_key,
        case
            when active_rows.export_key is null then 'entered'
            when current_rows.export_key is null then 'exited'
            when current_rows.row_hash != active_rows.row_hash then 'updated'
        end as change_type,
        current_rows.row_hash
    from current_rows
    full outer join active_rows
        on
            current_rows.destination = active_rows.destination
            and current_rows.export_key = active_rows.export_key
),

final as (
    select
        md5(destination || '|' || export_key || '|' || '{{ invocation_id }}') as change_key,
        destination,
        export_key,
        change_type,
        row_hash,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as changed_at,
        '{{ invocation_id }}' as invocation_id
    from changes
    where change_type is not null
)

select * from final
