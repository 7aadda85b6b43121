{#- not_null for an imputed feature: every row has a value, unless no row of
    the model has an observed value to impute from (every row is flagged
    imputed: an orders-only dataset has no birth years or interest scores at
    all), in which case the values stay null and flagged. Returns the null rows
    that break the rule. `imputed_flag`: the is_<column>_imputed column, or any
    boolean expression that is true where the value was imputed. -#}
{% test imputed_not_null(model, column_name, imputed_flag) %}

select *
from {{ model }}
where
    {{ column_name }} is null
    and exists (select 1 from {{ model }} as observed where not ({{ imputed_flag }}))

{% endtest %}
