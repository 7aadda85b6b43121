{#- Share hits / trials shrunk toward a base share: (hits + w * base) / (trials + w)
    with w = var microseg__segment_prior_weight. A customer with few trials sits near
    the base share instead of at 0 or 1 (one order is not a preference); with many
    trials the customer's own share wins. Null hits and trials count as 0. A null
    base share (no trial anywhere in the base: an orders-only dataset has no
    sessions or emails at all) counts as 0, so the share is 0, not null. -#}
{% macro smoothed_share(hits, trials, base) -%}
    {%- set w = var('microseg__segment_prior_weight') -%}
    ((coalesce({{ hits }}, 0) + {{ w }} * coalesce({{ base }}, 0)) / (coalesce({{ trials }}, 0) + {{ w }}))
{%- endmacro %}
