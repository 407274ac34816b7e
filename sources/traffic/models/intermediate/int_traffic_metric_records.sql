{{ metric_model_config() }}
{#- Traffic metric records: every accident counted in a traffic metric fact
    (int_traffic_metrics_aggregated) with what it adds (1 to the accidents, its deaths
    and its injuries), and every monthly violation statistic row (the source counts
    violations per region, month and violation code, not one by one) with its count.
    Summed by placed region, month and metric, they are the facts. Incremental by month, like the facts.
    Grain: metric_code × source_entity × record_key. -#}
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

accident_metrics as (

    select accident_no, 'traffic_accidents' as metric_code,
        1::numeric as contribution, null::numeric as denominator
    from placed_accidents

    union all

    select accident_no, 'traffic_deaths', deaths, null
    from placed_accidents where deaths <> 0

    union all

    select accident_no, 'traffic_injuries', injuries, null
    from placed_accidents where injuries <> 0

),

violation_rows as (

    select
        *,
        region_code || ':' || to_char(stat_month, 'YYYY-MM') || ':' || violation_code
                                                    as record_key
    from monthly_violations

),

violation_metrics as (

    select record_key, 'traffic_violations' as metric_code,
        violation_count::numeric as contribution, null::numeric as denominator
    from violation_rows

    union all

    select record_key, 'traffic_violations_' || violation_key, violation_count, null
    from violation_rows where violation_key is not null

),

records as (

    select
        placed_accidents.placed_code,
        placed_accidents.month_start,
        accident_metrics.metric_code,
        'traffic.accidents'                         as source_entity,
        placed_accidents.accident_no                as record_key,
        placed_accidents.occurred_at,
        (
            select string_agg(vehicle_type, '、')
            from jsonb_array_elements_text(placed_accidents.vehicle_types) as vehicle_type
        )                                           as category,
        'region_code'                               as placement_method,
        placed_accidents.batch_id,
        placed_accidents.source_ref,
        accident_metrics.contribution,
        accident_metrics.denominator
    from accident_metrics
    inner join placed_accidents
        on accident_metrics.accident_no = placed_accidents.accident_no

    union all

    select
        violation_rows.township_code,
        violation_rows.month_start,
        violation_metrics.metric_code,
        'traffic.violations',
        violation_rows.record_key,
        violation_rows.stat_month,
        violation_rows.violation_name,
        'region_code',
        violation_rows.batch_id,
        violation_rows.source_ref,
        violation_metrics.contribution,
        violation_metrics.denominator
    from violation_metrics
    inner join violation_rows
        on violation_metrics.record_key = violation_rows.record_key

),

final as (

    {{ metric_records_final('records') }}

)

select * from final
