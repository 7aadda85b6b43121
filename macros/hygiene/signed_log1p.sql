{#- sign(x) * ln(1 + |x|): a log scale for right-skewed measures that may be 0
    or negative (net spend after returns). Monotonic, 0 stays 0. -#}
{% macro signed_log1p(expr) -%}
    sign(cast({{ expr }} as double)) * ln(1 + abs(cast({{ expr }} as double)))
{%- endmacro %}
