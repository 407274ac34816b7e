{#- Every registered source's metric records in one relation: the models of var
    metric_record_models (generated from the registry, sources/<name>/models/**/
    int_*_metric_records.sql, by `pingan generate`), each of the same columns (macro
    metric_records_final). A view, read once by marts.region_index_records and the
    test that the records add up to the facts. -#}
{{ config(materialized='view') }}
with

{% for model in var('metric_record_models') %}
{{ model }} as (

    select * from {{ ref(model) }}

),

{% endfor %}
unioned as (

    {%- for model in var('metric_record_models') %}
    {% if not loop.first %}union all {% endif %}select * from {{ model }}
    {%- endfor %}

),

final as (

    select * from unioned

)

select * from final
