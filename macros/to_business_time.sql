{#- Convert a naive UTC timestamp to wall-clock time in the business time zone
    (var microseg__business_timezone), for hour-of-day and weekday features. -#}
{% macro to_business_time(column) -%}
    (({{ column }} at time zone 'UTC') at time zone '{{ var("microseg__business_timezone") }}')
{%- endmacro %}

{#- The business-time-zone date of a naive UTC timestamp: the calendar day
    every date grain (order_date, event_date, session and email dates, known
    dates, windows, recency, as-of) is counted in. The UTC timestamps stay. -#}
{% macro to_business_date(column) -%}
    cast({{ to_business_time(column) }} as date)
{%- endmacro %}
