{#- The unit amount of an order line on a log scale, ln(|amount| / |quantity|),
    null when either is 0: what the amount-outlier flag of
    int_behaviour__order_lines compares within a category (prices are
    right-skewed). One definition for the batch's lines and the kept ones. -#}
{% macro log_unit_amount(amount, quantity) -%}
    case
        when {{ amount }} <> 0 and {{ quantity }} <> 0
            then ln(abs({{ amount }}) / abs({{ quantity }}))
    end
{%- endmacro %}
