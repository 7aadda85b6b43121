{#- Probabilistic links between CRM records: macro crm_fuzzy_matches
    (macros/identity/crm_fuzzy_matches.sql) over the staged CRM records. -#}
{{ crm_fuzzy_matches(ref('stg_crm__customers')) }}
