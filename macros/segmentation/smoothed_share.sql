{#- Share hits / trials shrunk toward a base share: (hits + w * base) / (trials + w)
    with w = var microseg__segment_prior_weight. A customer with few trials sits near
    the base share instead of at 0 or 1 (one order is not a preference); with many
    trials the customer's own share wins. Null hits and trials count as 0. A null
    base share (no trial anywhere in the base: an orders-only dataset has no
    sessions or emails at all) counts as 0, so the share is 0, not null. Hits
    are capped at the trials (capped_hits), so with a base share in [0, 1] the
    share stays in [0, 1] whatever the mix of events. -#}
{% macro smoothed_share(hits, trials, base) -%}
    {%- set w = var('microseg__segment_prior_weight') -%}
    (({{ capped_hits(hits, trials) }} + {{ w }} * coalesce({{ base }}, 0)) / (coalesce({{ trials }}, 0) + {{ w }}))
{%- endmacro %}

{% macro capped_hits(hits, trials) -%}
    least(coalesce({{ hits }}, 0), coalesce({{ trials }}, 0))
{%- endmacro %}
