{#- Hash of a whole raw row: md5 over the JSON array of the given columns (as
    text), so null and '' differ and no separator can collide. Two rows have
    the same row_hash exactly when every listed column is equal (nulls equal).
    `prefix` is put in front of every column name. -#}
{% macro row_hash(columns, prefix='') -%}
    md5(cast(to_json([
        {%- for column in columns %}
        cast({{ prefix ~ column }} as varchar){{ "," if not loop.last }}
        {%- endfor %}
    ]) as varchar))
{%- endmacro %}
