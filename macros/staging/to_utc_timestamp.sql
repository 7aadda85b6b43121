{#- Mixed-zone ISO-8601 text -> UTC `timestamp`; null when it is not an
    ISO-8601 date or date-time.

    Accepted: `YYYY-MM-DD`, optionally followed by `T` or a space and
    `HH:MM[:SS[.fff]]`, optionally followed by `Z` (right after the time) or a numeric offset
    (`+01:00`, `-0500`, `+01`) of at most 14:00 (the widest real offset).
    Text with an offset is converted to UTC; text without one is read as UTC
    as is (so the result does not depend on the session TimeZone).
    Everything else is null, on purpose: a plain cast would also take
    `infinity`, `-infinity` and `epoch`, and it reads a zone name
    (`10:00 CET`, `Europe/Berlin`, `EST`) as UTC, silently shifting the time.
    Surrounding whitespace is allowed; blank text gives null. Plausibility
    bounds are timestamp_reason's job (macros/staging/staging_checks.sql).

    Cost (it runs on every raw event twice): an offset is checked by one
    regular expression, not three extractions; UTC comes from the epoch
    (make_timestamp(epoch_us(...))) rather than `at time zone 'UTC'`, and
    `Z` text is cast as a plain timestamp, which reads it as UTC. Same
    results on every raw timestamp of the 1,000,000-person bench (0
    differences in 40 M values), 5.1 -> 1.6 s per 10 M mixed-zone values
    (docs/decisions.md "Timestamp parsing cost"). -#}
{% macro to_utc_timestamp(expr) -%}
    {%- set iso -%}
        \s*\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[zZ]|\s*[+-]\d{2}(?::?\d{2})?)?)?\s*
    {%- endset -%}
    {#- a time followed by a numeric offset; a valid one is at most 14:00 with minutes below 60 -#}
    {%- set time -%}
        \d:\d\d(?::\d\d(?:\.\d+)?)?\s*[+-]
    {%- endset -%}
    case
        when not regexp_full_match({{ expr }}, '{{ iso }}') then null
        when regexp_matches({{ expr }}, '{{ time }}\d\d(?::?\d\d)?\s*$')
            then case
                when regexp_matches({{ expr }}, '{{ time }}(?:(?:0\d|1[0-3])(?::?[0-5]\d)?|14(?::?00)?)\s*$')
                    then make_timestamp(epoch_us(try_cast({{ expr }} as timestamptz)))
            end
        else try_cast({{ expr }} as timestamp)
    end
{%- endmacro %}
