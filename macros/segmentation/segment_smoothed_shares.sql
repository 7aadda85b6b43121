{#- The smoothed shares of mart_customer_features: output column, hits and
    trials (columns of its `joined` step). Each becomes
    smoothed_share(hits, trials, base share over all active customers). -#}
{% macro segment_smoothed_shares() -%}
    {%- set shares = [
        ('discounted_line_share_smoothed', 'discounted_lines', 'sale_lines'),
        ('returned_line_share_smoothed', 'return_lines', 'sale_lines'),
    ] -%}
    {%- for category in microseg_categories() -%}
        {%- do shares.append(('category_affinity_' ~ category, 'affinity_hits_' ~ category, 'affinity_trials')) -%}
    {%- endfor -%}
    {%- do shares.extend([
        ('cart_session_share_smoothed', 'cart_sessions', 'sessions'),
        ('checkout_session_share_smoothed', 'checkout_sessions', 'sessions'),
        ('email_open_rate_smoothed', 'emails_opened', 'emails_sent'),
        ('email_click_rate_smoothed', 'emails_clicked', 'emails_sent'),
    ]) -%}
    {%- for channel in var('microseg__channels') -%}
        {%- do shares.append(('channel_share_' ~ channel ~ '_smoothed', 'orders_' ~ channel, 'orders')) -%}
    {%- endfor -%}
    {%- for device in var('microseg__devices') -%}
        {%- do shares.append(('device_share_' ~ device ~ '_smoothed', 'sessions_' ~ device, 'sessions')) -%}
    {%- endfor -%}
    {%- do shares.append(('app_session_share_smoothed', 'app_sessions', 'sessions')) -%}
    {%- for moment in ['weekend', 'evening', 'morning'] -%}
        {%- do shares.append((moment ~ '_share_smoothed', moment ~ '_touchpoints', 'touchpoints')) -%}
    {%- endfor -%}
    {{ return(shares) }}
{%- endmacro %}
