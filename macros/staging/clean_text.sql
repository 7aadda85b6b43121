{#- Raw text as staging wants it: surrounding whitespace (spaces, tabs, line
    breaks, no-break spaces) removed; blank text and placeholders an export
    writes for "no value" (`NULL`, `null`, `N/A`, `none`, `nil`, `nan`,
    `undefined`, `-`, `?`, any casing) -> null. A key or a required value
    that is a placeholder is therefore missing, never a real id. The list is a
    constant here, not a var: the Python PII hash (microseg/pii.py) and its
    test render this file with plain jinja. The whitespace is stripped with an
    anchored regexp_replace, not DuckDB's trim(text, characters), which gives
    the same text but costs five times the CPU (3.9 M event ids: 2.5 s -> 0.5 s;
    docs/decisions.md "staging text cost"). The placeholder test is one
    case-insensitive full-match regexp, not `lower(x) not in (nine strings)`:
    DuckDB rewrites an IN list of six or more constants into a join, which
    cost 2.2 s per 5 M values against 0.5 s for the regexp (same result). The
    placeholder test runs on the untrimmed text (whitespace allowed around
    it) and the replace only on text that has whitespace to strip: two
    regexps a value instead of three (10 M event ids 0.89 -> 0.70 s). Text
    longer than the longest placeholder (`undefined`, 9 characters) with no
    whitespace at either end is neither a placeholder nor padded: it is kept
    as it is without a regexp (when it came, the ends read as code points;
    the 38.7 M raw events' 12 columns: 24.5-25.0 -> 17.7-17.9 s, 0
    differences; docs/decisions.md "clean_text skips its regexps on long
    unpadded text"). That test compares bytes, not code points: more than 9
    bytes (a placeholder is ASCII, so a longer value with no whitespace at
    its ends is none), the text and its last character at least '!' (a
    first byte above 32: no ASCII whitespace or control character at either
    end) and neither end the no-break space (starts_with / ends_with). Not
    `not in` the seven whitespace codes, which DuckDB planned as a mark join
    per column (base_tracking__events alone at 1,000,000 persons: 86.7 ->
    79.6 s), and not ascii() of both ends, which decoded each end twice
    (event ids: 2.11 -> 1.58 s, anonymous ids 1.66 -> 1.26 s for 38.7 M
    values on 2 threads). A control character below 33 at an end takes the
    regexp path, which keeps it as the fast path would. Shorter text with
    clean ends (ids of 9 characters, 'web', 'mobile', 'page_view') is a
    placeholder only if it is one exactly: one regexp without the whitespace
    classes, and no second one for whitespace it cannot have (38.7 M raw
    events: user ids 1.58 -> 1.28 s, platforms 1.56 -> 1.06 s, devices
    1.43 -> 0.95 s, six short columns 1.7 s in all; 0 differences). -#}
{% macro clean_text(expr) -%}
    {%- set space = "[ \\t\\n\\x0b\\x0c\\r\\x{a0}]" -%}
    {%- set placeholders = "null|n/a|none|nil|nan|undefined|-|[?]" -%}
    case
        when
            {{ expr }} >= '!' and not starts_with({{ expr }}, chr(160))
            and right({{ expr }}, 1) >= '!' and not ends_with({{ expr }}, chr(160))
            then case
                when strlen({{ expr }}) > 9 then {{ expr }}
                when not regexp_full_match({{ expr }}, '(?i){{ placeholders }}') then {{ expr }}
            end
        when not regexp_full_match({{ expr }}, '(?i){{ space }}*(|{{ placeholders }}){{ space }}*')
            then case
                when regexp_matches({{ expr }}, '^{{ space }}|{{ space }}$')
                    then regexp_replace({{ expr }}, '^{{ space }}+|{{ space }}+$', '', 'g')
                else {{ expr }}
            end
    end
{%- endmacro %}
