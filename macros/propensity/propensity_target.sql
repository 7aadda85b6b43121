{#- The propensity target from var microseg__propensity_target, parsed and
    checked: 'purchase' (any order with a sale), 'category_purchase:<category>'
    (an order with a sold line in that canonical category) or
    'event:<event_type>' (an event of that type). Returns a dict with kind and
    value; an unknown form stops the compilation with a clear message. -#}
{% macro propensity_target() -%}
    {%- set raw = var('microseg__propensity_target') | string | trim | lower -%}
    {%- set kind, _, value = raw.partition(':') -%}
    {#- none at parse time: checked when a model compiles -#}
    {%- set categories = microseg_categories(required=false) if execute else none -%}
    {%- set event_types = ['session_start', 'page_view', 'product_view', 'add_to_cart', 'checkout', 'purchase',
                           'login', 'email_sent', 'email_open', 'email_click'] -%}
    {%- if kind == 'purchase' and value == '' -%}
        {{ return({'kind': 'purchase', 'value': none, 'name': 'purchase'}) }}
    {%- elif kind == 'category_purchase' and value != '' and (categories is none or value in categories) -%}
        {{ return({'kind': 'category_purchase', 'value': value, 'name': raw}) }}
    {%- elif kind == 'event' and value in event_types -%}
        {{ return({'kind': 'event', 'value': value, 'name': raw}) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "microseg__propensity_target must be 'purchase', 'category_purchase:<category>' (one of "
            ~ (categories or []) | join(', ') ~ ") or 'event:<event_type>' (one of "
            ~ event_types | join(', ') ~ "); got '" ~ raw ~ "'"
        ) }}
    {%- endif -%}
{%- endmacro %}
