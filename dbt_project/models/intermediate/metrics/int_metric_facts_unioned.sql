{#- Every registered source's metric facts in one relation: the models of var
    metric_models (generated from the registry, sources/<name>/models/**/
    int_*_metrics_aggregated.sql, by `pingan generate`), each of the same columns
    (generic test metric_facts). A view: the rollup reads it once, as it read the
    union inline; and adding a source changes only the var, not the rollup or its
    unit test. -#}
{{ config(materialized='view') }}
with

{% for model in var('metric_models') %}
{{ model }} as (

    select * from {{ ref(model) }}

),

{% endfor %}
unioned as (

    {%- for model in var('metric_models') %}
    {% if not loop.first %}union all {% endif %}select * from {{ model }}
    {%- endfor %}

),

final as (

    select * from unioned

)

select * from final
