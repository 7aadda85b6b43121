{#- One row: where the export files go (var microseg__export_path, rendered)
    and in which format: read by the Python model export_folder, which creates
    the folder, and by anyone looking for the files. -#}
with

final as (
    select
        '{{ activation_export_folder() }}' as export_path,
        '{{ var("microseg__export_format") }}' as export_format
)

select * from final
