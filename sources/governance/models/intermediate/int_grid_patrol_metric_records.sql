{{ metric_model_config() }}
{#- Grid-patrol metric records: every patrol counted in a grid-patrol metric fact
    (int_grid_patrol_metrics_aggregated), per patrol type and over all types, with
    what it adds: 1 to the patrols, its issues found to the issues found, its issues
    rectified to a rectification rate's numerator and its issues found to the rate's
    denominator (a patrol that found nothing adds nothing there). Summed by placed
    region, month and metric, they are the facts.
    Incremental by month, like the facts. Grain: metric_code × record_key. -#}
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

    select patrol_no, 'grid_' || patrol_type_key || '_patrols' as metric_code,
        1::numeric as contribution, null::numeric as denominator
    from placed

    union all

    select patrol_no, 'grid_' || patrol_type_key || '_issues_found', issues_found, null
    from placed where issues_found <> 0

    union all

    select patrol_no, 'grid_' || patrol_type_key || '_rectification_rate',
        issues_rectified, issues_found
    from placed where issues_found <> 0 or issues_rectified <> 0

),

all_types as (

    select patrol_no, 'grid_patrols' as metric_code,
        1::numeric as contribution, null::numeric as denominator
    from placed

    union all

    select patrol_no, 'grid_issues_found', issues_found, null
    from placed where issues_found <> 0

    union all

    select patrol_no, 'grid_issues_rectified', issues_rectified, null
    from placed where issues_rectified <> 0

    union all

    select patrol_no, 'grid_rectification_rate', issues_rectified, issues_found
    from placed where issues_found <> 0 or issues_rectified <> 0

),

patrol_metrics as (

    select * from by_type
    union all
    select * from all_types

),

records as (

    select
        placed.placed_code,
        placed.month_start,
        patrol_metrics.metric_code,
        'governance.grid_patrols'                   as source_entity,
        placed.patrol_no                            as record_key,
        placed.patrol_on                            as occurred_at,
        placed.patrol_type_key                      as category,
        placed.placement_method,
        placed.batch_id,
        placed.source_ref,
        patrol_metrics.contribution,
        patrol_metrics.denominator
    from patrol_metrics
    inner join placed
        on patrol_metrics.patrol_no = placed.patrol_no

),

final as (

    {{ metric_records_final('records') }}

)

select * from final
