{#- Every unit of base_tracking__events with the start of the run that last
    rebuilt it: the staged, the rejected and the erased alike (a tombstone
    keeps its unit and _processed_at only). What the incremental fct_events
    deletes before it writes a batch (macro microseg_delete_rebuilt_units):
    the staging layer's batch, read by a mart through the intermediate layer.
    A view of two number and time columns: nothing to write, nothing for the
    privacy scans to read. -#}
{{ config(materialized='view') }}
select
    _unit,
    _processed_at
from {{ ref('base_tracking__events') }}
