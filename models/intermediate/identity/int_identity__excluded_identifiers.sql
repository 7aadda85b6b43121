{#- The giant-component guard: macro identifier_exclusions
    (macros/identity/identifier_exclusions.sql) over the identifier links and
    the staged CRM records. -#}
{{ identifier_exclusions(ref('int_identity__identifier_links'), ref('stg_crm__customers')) }}
