{{ metric_model_config() }}
{#- Fire metric facts: fires with their deaths, injuries and direct loss at the
    placed village (or town); inspection hazards at the town, the finest level the
    monthly inspection return carries. -#}
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
        stat_month                                  as month_start
    from inspections
    {{ incremental_month_filter('stat_month', [
        (ref('base_fire__fires'), 'fired_at'),
        (ref('base_fire__inspections'), 'stat_month')
    ]) }}

),

fire_counts as (

    select placed_code, month_start, 'fires' as metric_code,
        count(*)::numeric as numerator, null::numeric as denominator
    from placed_fires
    group by placed_code, month_start

    union all

    select placed_code, month_start, 'fire_deaths',
        coalesce(sum(deaths), 0), null
    from placed_fires
    group by placed_code, month_start

    union all

    select placed_code, month_start, 'fire_injuries',
        coalesce(sum(injuries), 0), null
    from placed_fires
    group by placed_code, month_start

    union all

    select placed_code, month_start, 'fire_direct_loss_yuan',
        coalesce(sum(direct_loss_yuan), 0), null
    from placed_fires
    group by placed_code, month_start

),

inspection_counts as (

    select township_code, month_start, 'fire_units_inspected' as metric_code,
        sum(units_inspected)::numeric as numerator, null::numeric as denominator
    from monthly_inspections
    group by township_code, month_start

    union all

    select township_code, month_start, 'fire_hazards_found',
        sum(hazards_found), null
    from monthly_inspections
    group by township_code, month_start

    union all

    select township_code, month_start, 'fire_hazards_rectified',
        sum(hazards_rectified), null
    from monthly_inspections
    group by township_code, month_start

    union all

    select township_code, month_start, 'fire_hazard_rectification_rate',
        sum(hazards_rectified), sum(hazards_found)
    from monthly_inspections
    group by township_code, month_start

),

unioned as (

    select * from fire_counts
    union all
    select * from inspection_counts

),

final as (

    {{ metric_facts_final('unioned') }}

)

select * from final
