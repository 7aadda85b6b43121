{#- Metrics of mart_customer_engagement that seed engagement_weights may weight.
    Shared by the mart and the test that rejects a seed row naming anything else. -#}
{% macro engagement_score_metrics() -%}
    {{ return([
        'sessions_30d', 'sessions_90d', 'page_views_30d', 'page_views_90d',
        'product_views_30d', 'product_views_90d', 'cart_adds_30d', 'cart_adds_90d',
        'checkouts_30d', 'checkouts_90d', 'orders_30d', 'orders_90d',
        'email_open_rate_30d', 'email_open_rate_90d', 'email_click_rate_30d', 'email_click_rate_90d',
    ]) }}
{%- endmacro %}
