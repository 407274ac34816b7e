{{ metric_model_config() }}
{#- Grid-patrol metric facts (网格巡查): patrols, issues found and the rectification
    rate, per patrol type and over all types, at the placed village (or town),
    incremental by month. The rate is a cohort rate: of the issues found by the
    month's patrols, how many are rectified by now. Unlike petitions and disputes it is
    not measured at the data cutoff: a patrol records no rectification date, only a
    new version, and a backfill that never saw the version in force at the cutoff
    could not recompute it (it would differ from the runs that did). -#}
with

patrols as (

    select * from {{ ref('int_governance_grid_patrols_located') }}
    where quarantine_reason is null

),

placed as (

    {{ placed_by_month('patrols', 'patrol_month', [
        (ref('base_governance__grid_patrols'), 'patrol_on')
    ]) }}

),

by_type as (

    select placed_code, month_start, 'grid_' || patrol_type_key || '_patrols' as metric_code,
        count(*)::numeric as numerator, null::numeric as denominator
    from placed group by placed_code, month_start, patrol_type_key

    union all

    select placed_code, month_start, 'grid_' || patrol_type_key || '_issues_found',
        sum(issues_found), null
    from placed group by placed_code, month_start, patrol_type_key

    union all

    select placed_code, month_start, 'grid_' || patrol_type_key || '_rectification_rate',
        sum(issues_rectified), sum(issues_found)
    from placed group by placed_code, month_start, patrol_type_key

),

all_types as (

    select placed_code, month_start, 'grid_patrols' as metric_code,
        count(*)::numeric as numerator, null::numeric as denominator
    from placed group by placed_code, month_start

    union all

    select placed_code, month_start, 'grid_issues_found', sum(issues_found), null
    from placed group by placed_code, month_start

    union all

    select placed_code, month_start, 'grid_issues_rectified', sum(issues_rectified), null
    from placed group by placed_code, month_start

    union all

    select placed_code, month_start, 'grid_rectification_rate',
        sum(issues_rectified), sum(issues_found)
    from placed group by placed_code, month_start

),

unioned as (

    select * from by_type
    union all
    select * from all_types

),

final as (

    {{ metric_facts_final('unioned') }}

)

select * from final
