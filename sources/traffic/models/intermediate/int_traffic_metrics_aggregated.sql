{{ metric_model_config() }}
{#- Traffic metric facts: accidents with deaths and injuries at the placed village
    (or town); violations at the town, as the traffic platform's monthly statistics
    give them (the latest snapshot of each month). -#}
with

accidents as (

    select * from {{ ref('stg_traffic__accidents') }}
    where township_code is not null

),

violations as (

    select * from {{ ref('stg_traffic__violations') }}
    where township_code is not null

),

placed_accidents as (

    {{ placed_by_month('accidents', 'occurred_month', [
        (ref('base_traffic__accidents'), 'occurred_at'),
        (ref('base_traffic__violations'), 'stat_month')
    ]) }}

),

monthly_violations as (

    select
        *,
        stat_month                                  as month_start
    from violations
    {{ incremental_month_filter('stat_month', [
        (ref('base_traffic__accidents'), 'occurred_at'),
        (ref('base_traffic__violations'), 'stat_month')
    ]) }}

),

accident_counts as (

    select placed_code, month_start, 'traffic_accidents' as metric_code,
        count(*)::numeric as numerator, null::numeric as denominator
    from placed_accidents
    group by placed_code, month_start

    union all

    select placed_code, month_start, 'traffic_deaths',
        coalesce(sum(deaths), 0), null
    from placed_accidents
    group by placed_code, month_start

    union all

    select placed_code, month_start, 'traffic_injuries',
        coalesce(sum(injuries), 0), null
    from placed_accidents
    group by placed_code, month_start

),

violation_counts as (

    select township_code, month_start, 'traffic_violations' as metric_code,
        sum(violation_count)::numeric as numerator, null::numeric as denominator
    from monthly_violations
    group by township_code, month_start

    union all

    select township_code, month_start, 'traffic_violations_' || violation_key,
        sum(violation_count), null
    from monthly_violations
    where violation_key is not null
    group by township_code, month_start, violation_key

),

unioned as (

    select * from accident_counts
    union all
    select * from violation_counts

),

final as (

    {{ metric_facts_final('unioned') }}

)

select * from final
