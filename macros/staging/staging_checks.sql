{#- Plausibility checks of the base_* staging models. Each *_reason macro is
    a SQL expression giving a reject reason code, or null when the value is
    fine; the models put them, in order, into their check_reason case
    (first failing check wins). Codes (docs/data_contract.md):
      invalid_timestamp  a date or time that is not ISO-8601 (to_utc_timestamp),
                         incl. `infinity`, `epoch`, zone names, offsets > 14:00
      invalid_number     a number that does not parse (try_cast_number)
      out_of_range       parses, but lies outside its plausibility bounds
                         (vars microseg__min_valid_date / max_valid_date /
                         future_skew_days / min_birth_date / max_amount /
                         max_quantity / max_name_length / max_text_length)
      pii_in_text        an identifier or a name holds an email address or a
                         phone number (the PII cannot be kept out otherwise)
    Free-text attributes that hold PII are not rejected but emptied
    (without_pii) and listed in pii_nulled_columns. -#}


{#- Earliest and latest plausible business timestamp. The latest is the run
    date (or var microseg__max_valid_date) plus microseg__future_skew_days
    whole days: clocks drift and exports cross midnight, but an order next
    month is a typo. Not as-of based: a backtest sets microseg__as_of_date
    before the end of the data and needs the rows after it. -#}
{% macro staging_min_valid_timestamp() -%}
    cast('{{ var("microseg__min_valid_date") }}' as timestamp)
{%- endmacro %}

{% macro staging_max_valid_timestamp() -%}
    {%- set max_date = var('microseg__max_valid_date', none) -%}
    {%- set skew = var('microseg__future_skew_days') | int -%}
    {%- if max_date -%}
        cast(cast('{{ max_date }}' as date) + {{ skew + 1 }} as timestamp)
    {%- else -%}
        cast(current_date + {{ skew + 1 }} as timestamp)
    {%- endif -%}
{%- endmacro %}


{#- invalid_timestamp when `typed` (to_utc_timestamp of `raw`) is null, for an
    optional column only when the raw text was not blank; out_of_range outside
    [staging_min_valid_timestamp, staging_max_valid_timestamp). -#}
{% macro timestamp_reason(raw, typed, required=true) -%}
    case
        when {{ typed }} is null {%- if not required %} and {{ clean_text(raw) }} is not null{% endif %}
            then 'invalid_timestamp'
        when
            {{ typed }} < {{ staging_min_valid_timestamp() }}
            or {{ typed }} >= {{ staging_max_valid_timestamp() }}
            then 'out_of_range'
    end
{%- endmacro %}


{#- A birth date (optional): invalid_timestamp when not blank but not a date,
    out_of_range before var microseg__min_birth_date or after the run date. -#}
{% macro birth_date_reason(raw, typed) -%}
    case
        when {{ typed }} is null and {{ clean_text(raw) }} is not null then 'invalid_timestamp'
        when
            {{ typed }} < cast('{{ var("microseg__min_birth_date") }}' as date)
            or {{ typed }} > current_date
            then 'out_of_range'
    end
{%- endmacro %}


{#- invalid_number when `typed` (try_cast_number of `raw`) is null, for an
    optional column only when the raw text was not blank; out_of_range when
    its absolute value exceeds `max_abs` (a number or SQL expression). -#}
{% macro number_reason(raw, typed, max_abs, required=true) -%}
    case
        when {{ typed }} is null {%- if not required %} and {{ clean_text(raw) }} is not null{% endif %}
            then 'invalid_number'
        when abs({{ typed }}) > {{ max_abs }} then 'out_of_range'
    end
{%- endmacro %}


{#- True when any of the text `columns` is longer than `max_length` characters. -#}
{% macro any_longer_than(columns, max_length) -%}
    (
        {%- for column in columns %}
            coalesce(length({{ column }}), 0) > {{ max_length }}{{ " or" if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}


{#- True when an identifier (an id) or a name carries PII, or what may be
    the remains of it: an `@`, or a phone number. For an id only a phone
    number written as one (with `+`, spaces or punctuation) counts: an
    all-digit id is an id (order and basket ids often are); for a name
    (`names_too`) any phone-like value does. -#}
{% macro identifier_has_pii(expr, names_too=false) -%}
    coalesce(
        contains({{ expr }}, '@')
        {%- if names_too %}
            or {{ looks_like_phone(expr) }}
        {%- else %}
            or {{ looks_like_formatted_phone(expr) }}
        {%- endif %},
        false
    )
{%- endmacro %}


{#- identifier_has_pii of any of the id `columns`. -#}
{% macro any_identifier_has_pii(columns) -%}
    (
        {%- for column in columns %}
            {{ identifier_has_pii(column) }}{{ " or" if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}


{#- True when a free-text attribute (city, region, channel, page label ...)
    holds an `@` or a phone-number-like value. -#}
{% macro text_has_pii(expr) -%}
    coalesce(contains({{ expr }}, '@') or {{ looks_like_phone(expr) }}, false)
{%- endmacro %}


{#- `expr` emptied (null) when text_has_pii. -#}
{% macro without_pii(expr) -%}
    case when not {{ text_has_pii(expr) }} then {{ expr }} end
{%- endmacro %}


{#- The names of the `columns` whose value text_has_pii would empty, as a
    list (empty when none): the flag and count of emptied values. -#}
{% macro pii_nulled_columns(columns) -%}
    list_filter([
        {%- for column in columns %}
            case when {{ text_has_pii(column) }} then '{{ column }}' end{{ "," if not loop.last }}
        {%- endfor %}
    ], lambda name: name is not null)
{%- endmacro %}
