{#- Generic test on a source's int_<...>_metrics_aggregated model, the facts
    int_region_metrics_rolled_up unions: one row per region_code × month_start ×
    metric_code, no key null, and every metric_code in the metric catalogue (a code
    the catalogue lacks would be rolled up with no kind and no level). Columns:
    region_code (where the facts were placed), month_start, metric_code, numerator
    (the count, or a rate's numerator), denominator (a rate's; null for counts),
    built_at (when the month was last rebuilt). A row here is a broken fact. -#}
{% test metric_facts(model) %}

with

facts as (

    select * from {{ model }}

),

catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

duplicates as (

    select region_code, month_start, metric_code, 'repeated ' || count(*) || ' times' as problem
    from facts
    group by region_code, month_start, metric_code
    having count(*) > 1

),

null_keys as (

    select region_code, month_start, metric_code, 'a key is null' as problem
    from facts
    where region_code is null or month_start is null or metric_code is null

),

uncatalogued as (

    select facts.region_code, facts.month_start, facts.metric_code,
        'not in the metric catalogue' as problem
    from facts
    left join catalogue on facts.metric_code = catalogue.metric_code
    where facts.metric_code is not null and catalogue.metric_code is null

),

final as (

    select * from duplicates
    union all
    select * from null_keys
    union all
    select * from uncatalogued

)

select * from final

{% endtest %}
