{#- Every record behind a metric fact adds up to it: for each placed region, month and
    metric of a source that lists its records (int_*_metric_records), the records'
    contributions sum to the fact's numerator, and a fact with a numerator has its
    records. A row here is a fact the records do not explain (or records no fact
    counts). -#}
with

records as (

    select * from {{ ref('int_metric_records_unioned') }}

),

facts as (

    select * from {{ ref('int_metric_facts_unioned') }}

),

summed as (

    select
        placed_code                                 as region_code,
        month_start,
        metric_code,
        sum(contribution)                           as recorded
    from records
    group by placed_code, month_start, metric_code

),

traced_metrics as (

    select distinct metric_code from records

),

traced_facts as (

    select facts.*
    from facts
    inner join traced_metrics
        on facts.metric_code = traced_metrics.metric_code

),

final as (

    select
        coalesce(traced_facts.region_code, summed.region_code) as region_code,
        coalesce(traced_facts.month_start, summed.month_start) as month_start,
        coalesce(traced_facts.metric_code, summed.metric_code) as metric_code,
        traced_facts.numerator,
        summed.recorded
    from traced_facts
    full outer join summed
        on traced_facts.region_code = summed.region_code
        and traced_facts.month_start = summed.month_start
        and traced_facts.metric_code = summed.metric_code
    where abs(coalesce(traced_facts.numerator, 0) - coalesce(summed.recorded, 0)) > 0.0001

)

select * from final
