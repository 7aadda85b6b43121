{#- Replaying the change feed gives the exports: the latest change per
    destination and key, exits dropped, must be exactly the current export
    rows with their row hashes. A sync tool that applies every batch in order
    therefore holds what a full export holds. -#}
with

changes as (
    select * from {{ ref('export_changes') }}
),

replayed as (
    select
        destination,
        export_key,
        arg_max(row_hash, changed_at) as row_hash,
        arg_max(change_type, changed_at) as change_type
    from changes
    group by destination, export_key
),

active as (
    select
        destination,
        export_key,
        row_hash
    from replayed
    where change_type != 'exited'
),

current_rows as (
    {{ activation_export_rows() }}
)

select
    coalesce(active.destination, current_rows.destination) as destination,
    coalesce(active.export_key, current_rows.export_key) as export_key,
    active.row_hash as replayed_hash,
    current_rows.row_hash as current_hash
from active
full outer join current_rows
    on active.destination = current_rows.destination and active.export_key = current_rows.export_key
where active.row_hash is distinct from current_rows.row_hash
