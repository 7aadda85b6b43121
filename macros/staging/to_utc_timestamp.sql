{#- Mixed-zone ISO-8601 text -> UTC `timestamp`; null when it is not an
    ISO-8601 date or date-time.

    Accepted: `YYYY-MM-DD`, optionally followed by `T` or a space and
    `HH:MM[:SS[.fff]]`, optionally followed by `Z` or a numeric offset
    (`+01:00`, `-0500`, `+01`) of at most 14:00 (the widest real offset).
    Text with an offset is converted to UTC; text without one is read as UTC
    as is (so the result does not depend on the session TimeZone).
    Everything else is null, on purpose: a plain cast would also take
    `infinity`, `-infinity` and `epoch`, and it reads a zone name
    (`10:00 CET`, `Europe/Berlin`, `EST`) as UTC, silently shifting the time.
    Surrounding whitespace is allowed; blank text gives null. Plausibility
    bounds are timestamp_reason's job (macros/staging/staging_checks.sql). -#}
{% macro to_utc_timestamp(expr) -%}
    {%- set iso -%}
        \s*\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?))?)?\s*
    {%- endset -%}
    {%- set offset -%}
        \d:\d\d(?::\d\d(?:\.\d+)?)?\s*[+-](\d\d)(?::?(\d\d))?\s*$
    {%- endset -%}
    case
        when not regexp_full_match({{ expr }}, '{{ iso }}') then null
        when regexp_matches({{ expr }}, '{{ offset }}')
            then case
                when
                    try_cast(regexp_extract({{ expr }}, '{{ offset }}', 1) as integer) * 60
                    + coalesce(try_cast(nullif(regexp_extract({{ expr }}, '{{ offset }}', 2), '') as integer), 0)
                    <= 840
                    and coalesce(try_cast(nullif(regexp_extract({{ expr }}, '{{ offset }}', 2), '') as integer), 0) < 60
                    then try_cast({{ expr }} as timestamptz) at time zone 'UTC'
            end
        when regexp_matches({{ expr }}, '\d\s*[zZ]\s*$')
            then try_cast({{ expr }} as timestamptz) at time zone 'UTC'
        else try_cast({{ expr }} as timestamp)
    end
{%- endmacro %}
