{#- Every record behind a metric fact adds up to it: for each placed region, month and
    metric, the records' contributions (int_*_metric_records, every source lists
    them) sum to the fact's numerator and their denominators to its denominator, and a
    fact with a numerator or a denominator has its records. A row here is a fact the
    records do not explain (or records no fact counts). -#}
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
        sum(contribution)                           as recorded,
        sum(denominator)                            as recorded_denominator
    from records
    group by placed_code, month_start, metric_code

),

final as (

    select
        coalesce(facts.region_code, summed.region_code) as region_code,
        coalesce(facts.month_start, summed.month_start) as month_start,
        coalesce(facts.metric_code, summed.metric_code) as metric_code,
        facts.numerator,
        summed.recorded,
        facts.denominator,
        summed.recorded_denominator
    from facts
    full outer join summed
        on facts.region_code = summed.region_code
        and facts.month_start = summed.month_start
        and facts.metric_code = summed.metric_code
    where abs(coalesce(facts.numerator, 0) - coalesce(summed.recorded, 0)) > 0.0001
        or abs(coalesce(facts.denominator, 0) - coalesce(summed.recorded_denominator, 0))
            > 0.0001

)

select * from final
