{#- This build's batch of export_changes (entered / updated / exited rows per
    destination), the file a sync tool reads after the build:
    <microseg__export_path>/changes.<format>. Empty when nothing changed. -#}
-- depends_on: {{ ref('export_folder') }}
{{ config(materialized='external', location=activation_export_location('changes')) }}
with

changes as not materialized (
    select * from {{ ref('export_changes') }}
),

final as (
    select
        change_key,
        destination,
        export_key,
        change_type,
        row_hash,
        changed_at
    from changes
    where invocation_id = '{{ invocation_id }}'
)

select * from final
