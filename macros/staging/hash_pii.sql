{#- Salted SHA-256 of an already normalized PII value; null stays null.

    The salt comes from env var MICROSEG_PII_SALT (demo default
    `microseg-demo-salt`). Set your own salt in production: the same salt must
    be used for every run, or hashes stop joining across runs. Note that the
    salt appears in dbt's compiled SQL under target/. -#}
{% macro hash_pii(expr) -%}
    {%- set salt = env_var('MICROSEG_PII_SALT', 'microseg-demo-salt') | replace("'", "''") -%}
    sha256('{{ salt }}' || ({{ expr }}))
{%- endmacro %}
