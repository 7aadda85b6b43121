{#- The reject reason codes of docs/data_contract.md, in their check order:
    one rejected_<reason> column each in data_quality_summary. A new code goes
    here, in the contract and in the accepted_values tests of the rejected
    models together. -#}
{% macro data_quality_reject_reasons() -%}
    {{ return([
        'missing_key', 'duplicate_key', 'invalid_timestamp', 'invalid_number', 'invalid_value',
        'amount_sign_mismatch', 'unknown_order', 'missing_identifier', 'out_of_range', 'pii_in_text',
    ]) }}
{%- endmacro %}
