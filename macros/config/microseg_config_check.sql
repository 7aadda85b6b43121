{#- on-run-start: every microseg__* var of dbt_project.yml checked before any
    model runs. A bad value stops the run with one line naming it (every bad var at once):
        var microseg__segment_k_min = 1: must be an integer >= 2
    One rule per var, (name, kind, options): a new var is one new line (a
    pytest fails when a var of dbt_project.yml has no rule here). Kinds:
        int / number   options min, max (inclusive), gt (exclusive lower bound)
        enum           options values
        text           a non-blank string
        int_list       a non-empty list of integers, options min
        text_list      a list of distinct non-blank strings, options non_empty, must_contain
        date_or_null   null or a YYYY-MM-DD date DuckDB parses (date: not null)
        bool           true or false
        text_map       a non-empty mapping of names to non-blank strings, options keys
        timezone       a time zone name DuckDB knows (pg_timezone_names)
        digits         a string of 1 to 4 digits
        tiers          a mapping {high, medium} of numbers in (0, 1], high > medium
        target         the propensity target syntax (macro propensity_target)
    Rules across vars (k_min <= k_max, ...) follow the table. -#}
{% macro microseg_config_check() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set share = {'gt': 0, 'max': 1} -%}
    {%- set rules = [
        ('microseg__raw_path', 'text', {}),
        ('microseg__raw_format', 'enum', {'values': ['parquet', 'csv']}),
        ('microseg__as_of_date', 'date_or_null', {}),
        ('microseg__default_country_code', 'digits', {}),
        ('microseg__late_event_hours', 'number', {'gt': 0}),
        ('microseg__incremental_lookback_hours', 'number', {'min': 0}),
        ('microseg__test_scope', 'enum', {'values': ['all', 'batch']}),
        ('microseg__outlier_robust_z', 'number', {'gt': 0}),
        ('microseg__engagement_windows_days', 'int_list', {'min': 1}),
        ('microseg__business_timezone', 'timezone', {}),
        ('microseg__evening_start_hour', 'int', {'min': 0, 'max': 23}),
        ('microseg__categories', 'text_list', {'non_empty': true, 'must_contain': 'other', 'nullable': true}),
        ('microseg__identity_match_threshold', 'number', share),
        ('microseg__identity_max_records_per_identifier', 'int', {'min': 1}),
        ('microseg__identity_max_block_size', 'int', {'min': 2}),
        ('microseg__erasure_max_hops', 'int', {'min': 1}),
        ('microseg__feature_outlier_robust_z', 'number', {'gt': 0}),
        ('microseg__propensity_horizon_days', 'int', {'min': 1}),
        ('microseg__propensity_training_snapshots', 'int', {'min': 1}),
        ('microseg__point_in_time_test_customers', 'int', {'min': 1}),
        ('microseg__propensity_target', 'target', {}),
        ('microseg__propensity_model_mode', 'enum', {'values': ['retrain', 'reuse_latest', 'auto']}),
        ('microseg__propensity_reasons', 'enum', {'values': ['path', 'shap']}),
        ('microseg__propensity_max_auc_drop', 'number', {'min': 0, 'max': 1}),
        ('microseg__propensity_max_model_age_days', 'int', {'min': 1}),
        ('microseg__propensity_max_training_rows', 'int', {'min': 100}),
        ('microseg__propensity_cv_folds', 'int', {'min': 2, 'max': 20}),
        ('microseg__propensity_search_candidates', 'int', {'min': 1}),
        ('microseg__propensity_seed', 'int', {'min': 0}),
        ('microseg__propensity_exclude_features', 'text_list', {}),
        ('microseg__propensity_tier_thresholds', 'tiers', {}),
        ('microseg__value_horizon_months', 'int', {'min': 1, 'max': 120}),
        ('microseg__value_discount_rate_annual', 'number', {'min': 0, 'max': 1}),
        ('microseg__value_max_training_rows', 'int', {'min': 100}),
        ('microseg__churn_inactive_days', 'int', {'min': 1}),
        ('microseg__churn_risk_threshold', 'number', share),
        ('microseg__value_high_value_decile', 'int', {'min': 1, 'max': 10}),
        ('microseg__value_model_mode', 'enum', {'values': ['retrain', 'reuse_latest', 'auto']}),
        ('microseg__value_max_model_age_days', 'int', {'min': 1}),
        ('microseg__value_max_metric_drop', 'number', {'min': 0, 'max': 2}),
        ('microseg__segment_active_days', 'int', {'min': 1}),
        ('microseg__segment_event_window_days', 'int', {'min': 1}),
        ('microseg__segment_prior_weight', 'number', {'min': 0}),
        ('microseg__segment_morning_end_hour', 'int', {'min': 1, 'max': 23}),
        ('microseg__segment_k_min', 'int', {'min': 2}),
        ('microseg__segment_k_max', 'int', {'min': 2}),
        ('microseg__segment_min_share', 'number', share),
        ('microseg__segment_min_size', 'int', {'min': 1}),
        ('microseg__segment_pca_variance_share', 'number', share),
        ('microseg__segment_core_threshold', 'number', share),
        ('microseg__segment_random_state', 'int', {'min': 0}),
        ('microseg__segment_fit_sample', 'int', {'min': 100}),
        ('microseg__segment_silhouette_sample', 'int', {'min': 100}),
        ('microseg__segment_silhouette_metric', 'enum', {'values': ['cosine', 'euclidean']}),
        ('microseg__segment_bootstrap_rounds', 'int', {'min': 1}),
        ('microseg__segment_id_max_distance', 'number', {'gt': 0}),
        ('microseg__segment_silhouette_floor', 'number', {'min': -1, 'max': 1}),
        ('microseg__segment_stability_floor', 'number', {'min': -1, 'max': 1}),
        ('microseg__segment_model_mode', 'enum', {'values': ['retrain', 'reuse_latest', 'auto']}),
        ('microseg__segment_max_model_age_days', 'int', {'min': 1}),
        ('microseg__min_valid_date', 'date', {}),
        ('microseg__max_valid_date', 'date_or_null', {}),
        ('microseg__future_skew_days', 'int', {'min': 0}),
        ('microseg__min_birth_date', 'date', {}),
        ('microseg__max_amount', 'number', {'gt': 0, 'max': 1e15}),
        ('microseg__max_quantity', 'number', {'gt': 0}),
        ('microseg__max_name_length', 'int', {'min': 1}),
        ('microseg__max_text_length', 'int', {'min': 1}),
        ('microseg__privacy_identifier_columns', 'text_list', {}),
        ('microseg__session_event_types', 'text_map', {}),
        ('microseg__view_event_types', 'text_list', {'non_empty': true}),
        ('microseg__email_event_types', 'text_map', {'keys': ['clicked', 'opened', 'sent']}),
        ('microseg__activity_email_flags', 'text_list', {}),
        ('microseg__session_platforms', 'text_list', {'non_empty': true}),
        ('microseg__channels', 'text_list', {'non_empty': true}),
        ('microseg__devices', 'text_list', {'non_empty': true}),
        ('microseg__interests', 'text_list', {}),
        ('microseg__erasure_unmatched_severity', 'enum', {'values': ['error', 'warn']}),
        ('microseg__allow_history_refresh', 'bool', {}),
        ('microseg__drift_bins', 'int', {'min': 2, 'max': 100}),
        ('microseg__drift_psi_warn', 'number', {'gt': 0}),
        ('microseg__drift_psi_error', 'number', {'gt': 0}),
        ('microseg__drift_segment_size_change', 'number', {'gt': 0}),
        ('microseg__drift_new_niche_max_overlap', 'number', {'min': 0, 'max': 1}),
        ('microseg__max_reject_share', 'number', share),
        ('microseg__activation_frequency_cap_days', 'int', {'min': 0}),
        ('microseg__activation_holdout_share', 'number', {'min': 0, 'max': 0.5}),
        ('microseg__activation_holdout_salt', 'text', {}),
        ('microseg__experiment_salt', 'text', {}),
        ('microseg__experiment_control_share', 'number', {'gt': 0, 'max': 0.5}),
        ('microseg__experiment_conversion_window_days', 'int', {'min': 1}),
        ('microseg__experiment_confidence', 'number', {'gt': 0.5, 'max': 0.999}),
        ('microseg__experiment_power', 'number', {'gt': 0.5, 'max': 0.999}),
        ('microseg__experiment_fdr_level', 'number', share),
        ('microseg__experiment_srm_alpha', 'number', share),
        ('microseg__experiment_min_arm_size', 'int', {'min': 1}),
        ('microseg__experiment_max_relative_mde', 'number', {'gt': 0}),
        ('microseg__export_path', 'text', {}),
        ('microseg__export_format', 'enum', {'values': ['parquet', 'csv']}),
        ('microseg__basket_min_support', 'number', share),
        ('microseg__basket_min_confidence', 'number', share),
        ('microseg__basket_min_segment_orders', 'int', {'min': 1}),
    ] -%}
    {%- set problems = [] -%}
    {%- set bad = [] -%}
    {%- for name, kind, options in rules -%}
        {%- set problem = microseg_config_problem(var(name, none), kind, options) -%}
        {%- if problem -%}
            {%- do problems.append(microseg_config_line(name, var(name, none), problem)) -%}
            {%- do bad.append(name) -%}
        {%- endif -%}
    {%- endfor -%}
    {#- the category list read from seed category_map (once built): a bad category stops here -#}
    {%- do microseg_categories(required=false) -%}
    {#- rules across vars, each checked when its own vars passed theirs -#}
    {%- set pairs = [
        ('microseg__segment_k_min', 'microseg__segment_k_max', '<='),
        ('microseg__drift_psi_warn', 'microseg__drift_psi_error', '<'),
        ('microseg__segment_morning_end_hour', 'microseg__evening_start_hour', '<='),
    ] -%}
    {%- for left, right, op in pairs if left not in bad and right not in bad -%}
        {%- if (op == '<=' and var(left) > var(right)) or (op == '<' and var(left) >= var(right)) -%}
            {%- do problems.append(microseg_config_line(
                left, var(left), 'must be ' ~ op ~ ' ' ~ right ~ ' (' ~ var(right) ~ ')'
            )) -%}
        {%- endif -%}
    {%- endfor -%}
    {#- reuse_latest applies a stored fit: its history table must hold one (a --full-refresh that
        empties the histories is caught by the model itself, microseg.model_reuse) -#}
    {%- set stored_fits = [
        ('microseg__segment_model_mode', 'segment_model'),
        ('microseg__value_model_mode', 'customer_value_model'),
    ] -%}
    {%- for mode_var, table in stored_fits if mode_var not in bad and var(mode_var) == 'reuse_latest' -%}
        {%- set relation = adapter.get_relation(
            database=target.database, schema=generate_schema_name('ml', none) | trim, identifier=table
        ) -%}
        {%- set fits = run_query('select count(*) from ' ~ relation).columns[0].values()[0] if relation else 0 -%}
        {%- if fits == 0 -%}
            {%- do problems.append(microseg_config_line(mode_var, var(mode_var),
                'needs a stored fit, but ml.' ~ table ~ ' holds none: build once with retrain or auto'
            )) -%}
        {%- endif -%}
    {%- endfor -%}
    {#- every bad var at once, one line each -#}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(problems | join('\n')) }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}


{% macro microseg_config_line(name, value, problem) -%}
    {{ return("var " ~ name ~ " = " ~ tojson(value) ~ ": " ~ problem) }}
{%- endmacro %}


{#- What is wrong with `value` for a rule of `kind` with `options`, or '' when
    nothing is. -#}
{% macro microseg_config_problem(value, kind, options) -%}
    {%- set is_int = value is integer and value is not boolean -%}
    {%- set is_number = value is number and value is not boolean -%}
    {%- if kind in ('int', 'number') -%}
        {%- set bounds = [] -%}
        {%- if 'gt' in options %}{% do bounds.append('> ' ~ options.gt) %}{% endif -%}
        {%- if 'min' in options %}{% do bounds.append('>= ' ~ options.min) %}{% endif -%}
        {%- if 'max' in options %}{% do bounds.append('<= ' ~ options.max) %}{% endif -%}
        {%- set wanted = ('an integer' if kind == 'int' else 'a number') ~ (' ' ~ bounds | join(' and ') if bounds else '') -%}
        {%- if not (is_int if kind == 'int' else is_number)
            or ('gt' in options and value <= options.gt)
            or ('min' in options and value < options.min)
            or ('max' in options and value > options.max) -%}
            {{ return('must be ' ~ wanted) }}
        {%- endif -%}
    {%- elif kind == 'enum' -%}
        {%- if value not in options['values'] -%}
            {{ return('must be one of ' ~ options['values'] | join(', ')) }}
        {%- endif -%}
    {%- elif kind == 'text' -%}
        {%- if value is not string or value | trim == '' -%}
            {{ return('must be a non-blank string') }}
        {%- endif -%}
    {%- elif kind == 'digits' -%}
        {%- if modules.re.fullmatch('[0-9]{1,4}', value | string) is none or value is boolean -%}
            {{ return('must be 1 to 4 digits, e.g. "49"') }}
        {%- endif -%}
    {%- elif kind == 'int_list' -%}
        {%- if value is string or value is not iterable or value is mapping or value | length == 0 -%}
            {{ return('must be a non-empty list of integers >= ' ~ options.min) }}
        {%- endif -%}
        {%- for item in value if not (item is integer and item is not boolean and item >= options.min) -%}
            {{ return('must be a non-empty list of integers >= ' ~ options.min) }}
        {%- endfor -%}
    {%- elif kind == 'text_list' and value is none and options.get('nullable') -%}
        {#- null: derived from data (microseg__categories: seed category_map, checked there) -#}
    {%- elif kind == 'text_list' -%}
        {%- set wanted = 'must be a list of distinct non-blank strings'
            ~ (', not empty' if options.get('non_empty') else '')
            ~ (", containing '" ~ options.must_contain ~ "'" if options.get('must_contain') else '') -%}
        {%- if value is string or value is not iterable or value is mapping
            or (options.get('non_empty') and value | length == 0)
            or (options.get('must_contain') and options.must_contain not in value)
            or value | unique | list | length != value | length -%}
            {{ return(wanted) }}
        {%- endif -%}
        {%- for item in value if item is not string or item | trim == '' -%}
            {{ return(wanted) }}
        {%- endfor -%}
    {%- elif kind == 'bool' -%}
        {%- if value is not boolean -%}
            {{ return('must be true or false') }}
        {%- endif -%}
    {%- elif kind == 'text_map' -%}
        {%- set wanted = 'must be a mapping of names to non-blank strings'
            ~ (' with keys ' ~ options['keys'] | join(', ') if options.get('keys') else '') -%}
        {%- if value is not mapping or value | length == 0
            or (options.get('keys') and value.keys() | list | sort != options['keys']) -%}
            {{ return(wanted) }}
        {%- endif -%}
        {%- for item in value.values() if item is not string or item | trim == '' -%}
            {{ return(wanted) }}
        {%- endfor -%}
    {%- elif kind in ('date', 'date_or_null') -%}
        {%- if value is none and kind == 'date' -%}
            {{ return('must be a date YYYY-MM-DD') }}
        {%- endif -%}
        {%- if value is not none -%}
            {%- set text = value | string -%}
            {%- if modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', text) is none
                or not run_query("select try_cast('" ~ text ~ "' as date) is not null").columns[0].values()[0] -%}
                {{ return('must be null or a date YYYY-MM-DD') }}
            {%- endif -%}
        {%- endif -%}
    {%- elif kind == 'timezone' -%}
        {%- if value is not string
            or run_query(
                "select count(*) from pg_timezone_names() where name = '" ~ value | replace("'", "''") ~ "'"
            ).columns[0].values()[0] == 0 -%}
            {{ return("must be a time zone DuckDB knows (select name from pg_timezone_names()), e.g. 'Europe/Berlin'") }}
        {%- endif -%}
    {%- elif kind == 'tiers' -%}
        {%- if value is not mapping or value.keys() | list | sort != ['high', 'medium']
            or value.high is not number or value.medium is not number
            or not (0 < value.medium < value.high <= 1) -%}
            {{ return('must be {high: h, medium: m} with 0 < m < h <= 1') }}
        {%- endif -%}
    {%- elif kind == 'target' -%}
        {#- propensity_target() stops the run with its own one-line message -#}
        {%- do propensity_target() -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("microseg_config_check: unknown rule kind '" ~ kind ~ "'") }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
