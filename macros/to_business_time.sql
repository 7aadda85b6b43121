{#- Convert a naive UTC timestamp to wall-clock time in the business time zone
    (var microseg__business_timezone), for hour-of-day and weekday features. -#}
{% macro to_business_time(column) -%}
    (({{ column }} at time zone 'UTC') at time zone '{{ var("microseg__business_timezone") }}')
{%- endmacro %}
