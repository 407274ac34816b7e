{#- Every registered source's metric facts in one relation: the models of var
    metric_models (generated from the registry, sources/<name>/models/**/
    int_*_metrics_aggregated.sql, by `pingan generate`), each of the same columns
    (generic test metric_facts). A view: the rollup reads it once, as it read the
    union inline; and adding a source changes only the var, not the rollup or its
    unit test. Accepted appeals (int_metric_records_appealed) correct it: a contested
    record's contributions are subtracted where it was placed and, when the decision
    moves it, added at the unit it moves to, so a region × month × metric can have
    several rows here; the rollup sums them. -#}
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

appealed as (

    select * from {{ ref('int_metric_records_appealed') }}

),

taken_out as (

    select
        placed_code                                 as region_code,
        month_start,
        metric_code,
        -contribution                               as numerator,
        -denominator                                as denominator,
        decided_at                                  as built_at
    from appealed

),

moved_in as (

    select
        move_to                                     as region_code,
        month_start,
        metric_code,
        contribution                                as numerator,
        denominator,
        decided_at                                  as built_at
    from appealed
    where move_to is not null

),

final as (

    select * from unioned
    union all
    select * from taken_out
    union all
    select * from moved_in

)

select * from final
