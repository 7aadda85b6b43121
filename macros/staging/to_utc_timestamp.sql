{#- Mixed-zone ISO-8601 text -> UTC `timestamp` (null when it does not parse).

    Text ending in an offset after the time (`Z`, `+01:00`, `-0500`, `+01`)
    is parsed as timestamptz and converted to UTC. Text without an offset is
    read as UTC as is (a plain timestamp cast), so the result does not depend
    on the session TimeZone. The offset test matters: a plain timestamp cast
    would silently drop an offset. Surrounding whitespace is allowed (the
    casts ignore it), blank text gives null. -#}
{% macro to_utc_timestamp(expr) -%}
    case
        when regexp_matches({{ expr }}, '\d:\d\d(:\d\d(\.\d*)?)?\s*([zZ]|[+-]\d\d(:?\d\d)?)\s*$')
            then try_cast({{ expr }} as timestamptz) at time zone 'UTC'
        else try_cast({{ expr }} as timestamp)
    end
{%- endmacro %}
