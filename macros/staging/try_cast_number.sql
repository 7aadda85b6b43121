{#- Text -> double, null when blank, a placeholder, unparseable or not finite.
    Only plain decimal notation (`12.5`, `-3`, `.5`, `1e3`) is read: a bare
    cast would also take `nan`, `inf`, `infinity` and digit separators
    (`1_000`), which no business export means as a number. Surrounding
    whitespace is allowed. Bounds are number_reason's job
    (macros/staging/staging_checks.sql). -#}
{% macro try_cast_number(expr) -%}
    case
        when
            regexp_full_match({{ expr }}, '\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*')
            and isfinite(try_cast({{ expr }} as double))
            then try_cast({{ expr }} as double)
    end
{%- endmacro %}
