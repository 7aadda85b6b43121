{#- How an erasure request's text is read (base_privacy__erasure_requests).
    A request is never dropped for how it is written: what can be parsed is
    parsed, and the identifier is normalized the way the data it must match
    is (docs/decisions.md, "Erasure cannot fail silently"). -#}


{#- The identifier with everything a copy-paste adds removed: whitespace
    anywhere (tabs, newlines, no-break spaces), control and invisible format
    characters (zero-width space and joiners, byte-order mark, soft hyphen),
    a `mailto:` prefix, an address in angle brackets (`Anna <a@x.com>` ->
    `a@x.com`), surrounding quotes and brackets. Case is kept; blank -> null. -#}
{% macro erasure_clean_identifier(expr) -%}
    nullif(
        regexp_replace(
            regexp_replace(
                regexp_replace(
                    coalesce(
                        nullif(regexp_extract({{ expr }}, '<([^<>]*@[^<>]*)>', 1), ''),
                        {{ expr }}
                    ),
                    '[\s\p{Cc}\p{Cf}\p{Z}]', '', 'g'
                ),
                '^[''"<\[(]*(?i:mailto:)?', ''
            ),
            '[''">\])]+$', ''
        ),
        ''
    )
{%- endmacro %}


{#- email, phone or crm_id from the request's type and value: any spelling
    of the type (`E-Mail`, `EMAIL`, `e_mail`, `Telefon`, `mobile`, `crm`,
    `crm id`, `customer_id`); a value with an @ is an email whatever the type
    says; an unknown or blank type with any other value is read as a crm id
    (and fails the build as unmatched if no crm id is spelled like it). Null
    only without a value. -#}
{% macro erasure_identifier_type(type_expr, value_expr) -%}
    case
        when {{ value_expr }} is null then null
        when contains({{ value_expr }}, '@') then 'email'
        when
            regexp_replace(lower(coalesce({{ type_expr }}, '')), '[^a-z]', '', 'g')
            in ('email', 'mail', 'emailaddress', 'mailaddress')
            then 'email'
        when
            regexp_replace(lower(coalesce({{ type_expr }}, '')), '[^a-z]', '', 'g')
            in ('phone', 'phonenumber', 'telephone', 'telefon', 'tel', 'mobile', 'mobilephone', 'cell')
            then 'phone'
        else 'crm_id'
    end
{%- endmacro %}


{#- The request time: ISO-8601 with or without offset (macro to_utc_timestamp),
    else a day-first or slashed date; null when nothing parses (the request
    is honoured all the same). -#}
{% macro erasure_requested_at(expr) -%}
    coalesce(
        {{ to_utc_timestamp(expr) }},
        try_strptime(trim({{ expr }}), ['%d/%m/%Y', '%d.%m.%Y', '%Y/%m/%d', '%d/%m/%Y %H:%M', '%d.%m.%Y %H:%M'])
    )
{%- endmacro %}
