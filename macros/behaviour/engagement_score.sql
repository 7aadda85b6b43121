{#- The engagement score of every row of `relation` (customer_key plus the
    metrics of macro engagement_score_metrics): 0-100, the weighted mean of
    the metrics' percentile ranks with the weights of seed engagement_weights
    (a metric the seed does not name does not count). A select of
    customer_key, engagement_score; customers without any metric get 0 from
    the caller's coalesce. -#}
{% macro engagement_score(relation) -%}
    with

    weights as (
        select * from {{ ref('engagement_weights') }}
    ),

    metric_values as (
        select
            unpivoted.customer_key,
            unpivoted.metric,
            coalesce(unpivoted.metric_value, 0) as metric_value
        from (
            unpivot (
                select
                    {%- for metric in engagement_score_metrics() %}
                        cast({{ metric }} as double) as {{ metric }},
                    {%- endfor %}
                    customer_key
                from {{ relation }}
            )
            on columns(* exclude (customer_key))
            into name metric value metric_value
        ) as unpivoted
    ),

    metric_ranks as (
        select
            metric_values.customer_key,
            weights.weight,
            percent_rank() over (partition by metric_values.metric order by metric_values.metric_value) as pct_rank
        from metric_values
        inner join weights on metric_values.metric = weights.metric
    )

    select
        customer_key,
        round(100 * sum(weight * pct_rank) / sum(weight), 2) as engagement_score
    from metric_ranks
    group by customer_key
{%- endmacro %}
