{{ metric_model_config() }}
{#- Police metric records: every record counted in a police metric fact
    (int_police_metrics_aggregated), with what it adds to the fact's numerator: 1 to
    a count or to a rate's numerator, its minutes to police_arrival_minutes, its yuan
    to fraud_stopped_amount_yuan; and 1 to a rate's (or an average's) denominator, so a
    rate lists its records that add 0 too (an unsatisfied callback). Summed by placed
    region, month and metric, they are the facts, so every deduction can be
    traced to the records behind it. Incremental by month, like the facts.
    Grain: metric_code × record_key (a record counts once per metric). -#}
with

incidents as (

    select * from {{ ref('int_police_incidents_located') }}
    where quarantine_reason is null

),

warnings as (

    select * from {{ ref('int_police_fraud_warnings_located') }}
    where quarantine_reason is null

),

subcategories as (

    select * from {{ ref('police_incident_subcategories') }}

),

placed_incidents as (

    {{ placed_by_month('incidents', 'reported_month', [
        (ref('base_police__incidents'), 'reported_at'),
        (ref('base_police__fraud_warnings'), 'warned_at')
    ]) }}

),

placed_warnings as (

    {{ placed_by_month('warnings', 'warned_month', [
        (ref('base_police__incidents'), 'reported_at'),
        (ref('base_police__fraud_warnings'), 'warned_at')
    ]) }}

),

incident_metrics as (

    select incident_no, 'police_incidents_total' as metric_code,
        1::numeric as contribution, null::numeric as denominator
    from placed_incidents

    union all

    select incident_no, 'police_incidents_' || category_key, 1, null
    from placed_incidents

    union all

    select placed_incidents.incident_no,
        'police_incidents_sub_' || subcategories.subcategory_code, 1, null
    from placed_incidents
    inner join subcategories
        on placed_incidents.subcategory_code = subcategories.subcategory_code

    union all

    select incident_no, 'police_arrival_minutes',
        extract(epoch from arrived_at - reported_at) / 60.0, 1
    from placed_incidents
    where arrived_at >= reported_at

    union all

    select incident_no, 'police_callback_satisfaction_rate',
        case when callback_satisfaction in ('满意', '基本满意') then 1 else 0 end, 1
    from placed_incidents
    where callback_satisfaction in ('满意', '基本满意', '不满意')

),

warning_metrics as (

    select warning_no, 'fraud_warnings' as metric_code,
        1::numeric as contribution, null::numeric as denominator
    from placed_warnings

    union all

    select warning_no, 'fraud_dissuasion_rate',
        case when dissuasion_result = '劝阻成功' then 1 else 0 end, 1
    from placed_warnings

    union all

    select warning_no, 'fraud_stopped_amount_yuan', stopped_amount_yuan, null
    from placed_warnings
    where stopped_amount_yuan is not null

),

incident_records as (

    select
        placed_incidents.placed_code,
        placed_incidents.month_start,
        incident_metrics.metric_code,
        'police.incidents'                          as source_entity,
        placed_incidents.incident_no                as record_key,
        placed_incidents.reported_at                as occurred_at,
        placed_incidents.category_key
            || coalesce('/' || placed_incidents.subcategory_code, '') as category,
        placed_incidents.placement_method,
        placed_incidents.batch_id,
        placed_incidents.source_ref,
        incident_metrics.contribution,
        incident_metrics.denominator
    from incident_metrics
    inner join placed_incidents
        on incident_metrics.incident_no = placed_incidents.incident_no

),

warning_records as (

    select
        placed_warnings.placed_code,
        placed_warnings.month_start,
        warning_metrics.metric_code,
        'police.fraud_warnings'                     as source_entity,
        placed_warnings.warning_no                  as record_key,
        placed_warnings.warned_at                   as occurred_at,
        placed_warnings.warning_type                as category,
        placed_warnings.placement_method,
        placed_warnings.batch_id,
        placed_warnings.source_ref,
        warning_metrics.contribution,
        warning_metrics.denominator
    from warning_metrics
    inner join placed_warnings
        on warning_metrics.warning_no = placed_warnings.warning_no

),

final as (

    {{ metric_records_final('incident_records') }}
    union all
    {{ metric_records_final('warning_records') }}

)

select * from final
