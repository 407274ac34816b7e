{{ metric_model_config() }}
{#- Fire metric records: every fire counted in a fire metric fact
    (int_fire_metrics_aggregated) with what it adds (1 to the fires, its deaths,
    injuries and direct loss), and every monthly inspection statistic row (the fire
    service reports inspections per town and month, not one by one) with its units
    inspected, hazards found and rectified, and the rectification rate's numerator
    (rectified) and denominator (found). Summed by placed region, month and metric they
    are the facts. Incremental by month, like the
    facts. Grain: metric_code × source_entity × record_key. -#}
with

fires as (

    select * from {{ ref('stg_fire__fires') }}
    where township_code is not null

),

inspections as (

    select * from {{ ref('stg_fire__inspections') }}
    where township_code is not null

),

placed_fires as (

    {{ placed_by_month('fires', 'fire_month', [
        (ref('base_fire__fires'), 'fired_at'),
        (ref('base_fire__inspections'), 'stat_month')
    ]) }}

),

monthly_inspections as (

    select
        *,
        stat_month                                  as month_start,
        township_code || ':' || to_char(stat_month, 'YYYY-MM') as record_key
    from inspections
    {{ incremental_month_filter('stat_month', [
        (ref('base_fire__fires'), 'fired_at'),
        (ref('base_fire__inspections'), 'stat_month')
    ]) }}

),

fire_metrics as (

    select fire_no, 'fires' as metric_code,
        1::numeric as contribution, null::numeric as denominator
    from placed_fires

    union all

    select fire_no, 'fire_deaths', deaths, null
    from placed_fires where deaths <> 0

    union all

    select fire_no, 'fire_injuries', injuries, null
    from placed_fires where injuries <> 0

    union all

    select fire_no, 'fire_direct_loss_yuan', direct_loss_yuan, null
    from placed_fires where direct_loss_yuan <> 0

),

inspection_metrics as (

    select record_key, 'fire_units_inspected' as metric_code,
        units_inspected::numeric as contribution, null::numeric as denominator
    from monthly_inspections

    union all

    select record_key, 'fire_hazards_found', hazards_found, null
    from monthly_inspections

    union all

    select record_key, 'fire_hazards_rectified', hazards_rectified, null
    from monthly_inspections

    union all

    select record_key, 'fire_hazard_rectification_rate', hazards_rectified, hazards_found
    from monthly_inspections

),

records as (

    select
        placed_fires.placed_code,
        placed_fires.month_start,
        fire_metrics.metric_code,
        'fire.fires'                                as source_entity,
        placed_fires.fire_no                        as record_key,
        placed_fires.fired_at                       as occurred_at,
        placed_fires.cause                          as category,
        'region_code'                               as placement_method,
        placed_fires.batch_id,
        placed_fires.source_file || '#' || placed_fires.source_row as source_ref,
        fire_metrics.contribution,
        fire_metrics.denominator
    from fire_metrics
    inner join placed_fires
        on fire_metrics.fire_no = placed_fires.fire_no

    union all

    select
        monthly_inspections.township_code,
        monthly_inspections.month_start,
        inspection_metrics.metric_code,
        'fire.inspections',
        monthly_inspections.record_key,
        monthly_inspections.stat_month,
        null,
        'region_code',
        monthly_inspections.batch_id,
        monthly_inspections.source_file || '#' || monthly_inspections.source_row,
        inspection_metrics.contribution,
        inspection_metrics.denominator
    from inspection_metrics
    inner join monthly_inspections
        on inspection_metrics.record_key = monthly_inspections.record_key

),

final as (

    {{ metric_records_final('records') }}

)

select * from final
