{#- Every per-customer window metric over the behaviour layer
    (models/intermediate/behaviour), defined once here and read by
    mart_customer_engagement, mart_customer_features (through its
    intermediate models) and the point-in-time propensity snapshots.
    docs/metrics.md lists them.

    behaviour_metrics(kind, as_of, windows, relation=none): a select with one
    row per customer_key having a row of `kind` known by `as_of` (a SQL date
    expression), and one column <metric>_<w>d per metric of the kind and
    window w in `windows` (days, the as-of date inclusive: w = 30 covers
    as_of - 29 .. as_of); a window `none` means all history up to the as-of
    date and adds no suffix. Rows known after the as-of date (late events,
    sessions still going on) are never read. `relation` defaults to the
    behaviour model of the kind; the point-in-time test passes cut copies.

    behaviour_measures(kind): the metric definitions: name, aggregate, the
    row condition, the date the window applies to and the date the row was
    known. `only` (a list of metric names) keeps those metrics only. -#}
{% macro behaviour_measures(kind) -%}
    {%- set m = [] -%}
    {%- if kind == 'sessions' -%}
        {%- set base = {'date': 'session_date', 'known': 'known_date', 'where': 'true'} -%}
        {%- do m.append(dict(base, name='sessions', agg='count(*)')) -%}
        {%- for metric in var('microseg__session_event_types') -%}
            {%- do m.append(dict(base, name=metric, agg='sum(' ~ metric ~ ')', type='bigint')) -%}
        {%- endfor -%}
        {%- do m.append(dict(base, name='cart_sessions', agg='count(*)', where='has_cart_add')) -%}
        {%- do m.append(dict(base, name='checkout_sessions', agg='count(*)', where='has_checkout')) -%}
        {%- for platform in var('microseg__session_platforms') -%}
            {%- do m.append(dict(base, name=platform ~ '_sessions', agg='count(*)', where="platform = '" ~ platform ~ "'")) -%}
        {%- endfor -%}
        {%- for device in var('microseg__devices') -%}
            {%- do m.append(dict(base, name='sessions_' ~ device, agg='count(*)', where="device = '" ~ device ~ "'")) -%}
        {%- endfor -%}
        {%- do m.append(dict(base, name='category_views', agg='sum(category_views)', type='bigint')) -%}
        {%- for category in microseg_categories() -%}
            {%- do m.append(dict(base, name='views_' ~ category, agg='sum(views_' ~ category ~ ')', type='bigint')) -%}
        {%- endfor -%}
        {%- do m.append(dict(base, name='last_session_date', agg='max(session_date)')) -%}
    {%- elif kind == 'email_campaigns' -%}
        {%- for flag in var('microseg__email_event_types') -%}
            {%- do m.append({'name': 'emails_' ~ flag, 'agg': 'count(*)', 'where': 'is_' ~ flag,
                             'date': 'first_' ~ flag ~ '_date', 'known': flag ~ '_known_date'}) -%}
        {%- endfor -%}
        {%- for flag in var('microseg__activity_email_flags') -%}
            {%- do m.append({'name': 'last_email_' ~ flag ~ '_date', 'agg': 'max(first_' ~ flag ~ '_date)',
                             'where': 'is_' ~ flag, 'date': 'first_' ~ flag ~ '_date',
                             'known': flag ~ '_known_date'}) -%}
        {%- endfor -%}
    {%- elif kind == 'orders' -%}
        {%- set base = {'date': 'order_date', 'known': 'known_date', 'where': 'true'} -%}
        {%- do m.append(dict(base, name='orders', agg='count(*)')) -%}
        {%- for channel in var('microseg__channels') -%}
            {%- do m.append(dict(base, name='orders_' ~ channel, agg='count(*)', where="channel = '" ~ channel ~ "'")) -%}
        {%- endfor -%}
        {%- do m.append(dict(base, name='purchases', agg='count(*)', where='item_quantity > 0')) -%}
        {%- do m.append(dict(base, name='sales_eur', agg='sum(sales_amount_eur)')) -%}
        {%- do m.append(dict(base, name='discount_eur', agg='sum(discount_amount_eur)')) -%}
        {%- do m.append(dict(base, name='returns_eur', agg='sum(returns_amount_eur)')) -%}
        {%- do m.append(dict(base, name='last_order_date', agg='max(order_date)')) -%}
    {%- elif kind == 'order_lines' -%}
        {%- set base = {'date': 'order_date', 'known': 'known_date'} -%}
        {%- do m.append(dict(base, name='sale_lines', agg='count(*)', where='not is_return')) -%}
        {%- do m.append(dict(base, name='discounted_lines', agg='count(*)', where='not is_return and is_discounted')) -%}
        {%- do m.append(dict(base, name='return_lines', agg='count(*)', where='is_return')) -%}
        {%- do m.append(dict(base, name='line_sales_eur', agg='sum(line_amount_eur)', where='not is_return')) -%}
        {%- for category in microseg_categories() -%}
            {%- set is_category = "not is_return and category = '" ~ category ~ "'" -%}
            {%- do m.append(dict(base, name='lines_' ~ category, agg='count(*)', where=is_category)) -%}
            {%- do m.append(dict(base, name='spend_' ~ category ~ '_eur', agg='sum(line_amount_eur)', where=is_category)) -%}
        {%- endfor -%}
    {%- elif kind == 'touchpoints' -%}
        {%- set base = {'date': 'touch_date', 'known': 'known_date'} -%}
        {%- do m.append(dict(base, name='touchpoints', agg='count(*)', where='true')) -%}
        {%- do m.append(dict(base, name='weekend_touchpoints', agg='count(*)', where='is_weekend')) -%}
        {%- do m.append(dict(base, name='evening_touchpoints', agg='count(*)',
                             where='local_hour >= ' ~ var('microseg__evening_start_hour'))) -%}
        {%- do m.append(dict(base, name='morning_touchpoints', agg='count(*)',
                             where='local_hour < ' ~ var('microseg__segment_morning_end_hour'))) -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("behaviour_measures: unknown kind '" ~ kind ~ "'") }}
    {%- endif -%}
    {{ return(m) }}
{%- endmacro %}

{% macro behaviour_metrics(kind, as_of, windows, relation=none, only=none) -%}
    {%- set measures = [] -%}
    {%- for measure in behaviour_measures(kind) if only is none or measure.name in only -%}
        {%- do measures.append(measure) -%}
    {%- endfor -%}
    {%- set known_columns = [] -%}
    {%- for measure in measures if measure.known not in known_columns -%}
        {%- do known_columns.append(measure.known) -%}
    {%- endfor %}
    select
        {%- for window in windows %}
            {%- for measure in measures %}
                {%- set in_window = ('and rows_.' ~ measure.date ~ ' > cut.as_of_date - ' ~ window) if window else '' %}
                {%- set aggregate = measure.agg ~ ' filter (where rows_.' ~ measure.known ~ ' <= cut.as_of_date and ('
                    ~ measure.where ~ ') ' ~ in_window ~ ')' %}
                {%- if not measure.name.endswith('_date') %}
                    {%- set aggregate = 'coalesce(' ~ aggregate ~ ', 0)' %}
                {%- endif %}
                {%- if measure.type %}
                    {%- set aggregate = 'cast(' ~ aggregate ~ ' as ' ~ measure.type ~ ')' %}
                {%- endif %}
                {{ aggregate }} as {{ measure.name }}{{ ('_' ~ window ~ 'd') if window }},
            {%- endfor %}
        {%- endfor %}
        rows_.customer_key
    from {{ relation or ref('int_behaviour__' ~ kind) }} as rows_
    cross join (select cast({{ as_of }} as date) as as_of_date) as cut
    where
        rows_.customer_key is not null
        and ({% for column in known_columns %}rows_.{{ column }} <= cut.as_of_date{{ ' or ' if not loop.last }}{% endfor %})
    group by rows_.customer_key
{%- endmacro %}
