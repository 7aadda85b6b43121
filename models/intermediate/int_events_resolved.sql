{#- Events with their customer: the logged-in CRM id first, else the customer the
    anonymous id logged in as (so pre-login browsing counts for that customer).
    Unresolvable events keep customer_key null (macro resolved_events, which
    an incremental batch calls with its own filter on the staged events).

    Ephemeral: fct_events writes the result once; a table here would write
    the largest relation of the project a second time. It was a view, which
    every reader recomputed just the same, and which the privacy scans and its
    own key tests computed three more times (1,000,000 persons: 33.6 s of the
    PII scan alone, the unique test 13.9 s; docs/decisions.md "Resolved events
    are ephemeral"). -#}
{{ config(materialized='ephemeral') }}
{{ resolved_events(ref('stg_tracking__events'), ref('int_customer_identifiers')) }}
