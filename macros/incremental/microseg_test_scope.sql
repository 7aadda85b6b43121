{#- Data tests of a daily run read the rows the last run wrote, where that is
    sound (docs/incremental.md#data-tests-on-a-daily-run).

    dbt wraps the model of every generic test in get_where_subquery (the
    `where` config); this override adds the batch filter when
    var microseg__test_scope is `batch` (the daily command sets it; default
    `all`: every row, as `make dbt-test` and a full refresh test).

    The batch of an incremental model is its rows whose _processed_at is the
    table's latest: the units the last run rebuilt. A full build writes every
    row with the run's start, so after a full refresh the batch is the whole
    table. Rows outside the batch are unchanged since a run that tested them.
    Per test kind:
      - row-local kinds (microseg__row_local_tests): a row passes or fails on
        its own columns, so the batch rows are enough;
      - unique: every row whose value is one of the batch's values (an old row
        with the same key is a duplicate of a new one);
      - anything else reads the whole table: relationships (the parent side
        can lose rows, e.g. an order erased since its lines were tested),
        aggregates (row_reconciliation, reject_share_below) and unknown kinds.
    Tables that are not incremental, or carry no _processed_at (the ML and
    segment histories: one run appended per run), are always read whole. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set batch = microseg_test_batch_filter(relation) -%}
    {%- set conditions = [] -%}
    {%- if where -%}{%- do conditions.append('(' ~ where ~ ')') -%}{%- endif -%}
    {%- if batch -%}{%- do conditions.append(batch) -%}{%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}


{#- Generic test kinds whose verdict on a row depends on that row only. -#}
{% macro microseg_row_local_tests() -%}
    {{ return(['not_null', 'not_null_columns', 'accepted_values', 'accepted_range',
               'expression_is_true', 'column_rules']) }}
{%- endmacro %}


{#- The condition restricting a test of `relation` to the last run's batch, or
    '' for every row (see the top of this file). -#}
{% macro microseg_test_batch_filter(relation) -%}
    {%- if not execute or var('microseg__test_scope', 'all') != 'batch' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set test_meta = model.get('test_metadata') or {} -%}
    {%- set tested = graph.nodes.get(model.get('attached_node') or '') -%}
    {%- if not test_meta or tested is none or tested.config.materialized != 'incremental'
        or '_processed_at' not in tested.columns -%}
        {{ return('') }}
    {%- endif -%}
    {%- set latest = microseg_batch_condition(relation) -%}
    {%- if test_meta.name in microseg_row_local_tests() -%}
        {{ return(latest) }}
    {%- elif test_meta.name == 'unique' -%}
        {%- set column = test_meta.kwargs.column_name -%}
        {{ return(column ~ ' in (select ' ~ column ~ ' from ' ~ relation ~ ' where ' ~ latest ~ ')') }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}


{#- The condition of a relation's last batch: its rows with the latest _processed_at. -#}
{% macro microseg_batch_condition(relation) -%}
    {{ return('_processed_at = (select max(batch_rows._processed_at) from ' ~ relation ~ ' as batch_rows)') }}
{%- endmacro %}


{#- The rows of model `node` a scan whose verdict on a row depends on that
    row only reads: with microseg__test_scope `batch`, an incremental model
    with _processed_at in its yml keeps to its last batch, as the row-local
    generic tests do; otherwise the whole relation. The privacy PII scan
    reads through it (a raw email or phone number is a property of one row:
    fct_events' ten text columns over 38 M rows at 1,000,000 persons); the
    erased-identifier scan does not (a row scanned in an earlier run can hold
    an identifier erased since). -#}
{% macro microseg_batch_rows(node) -%}
    {%- if var('microseg__test_scope', 'all') == 'batch' and node.config.materialized == 'incremental'
        and '_processed_at' in node.columns -%}
        {{ return('(select * from ' ~ node.relation_name ~ ' where '
                  ~ microseg_batch_condition(node.relation_name) ~ ')') }}
    {%- endif -%}
    {{ return(node.relation_name) }}
{%- endmacro %}
