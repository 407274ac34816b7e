{{ metric_model_config() }}
{#- Police metric facts: one row per placed region (the village when the record was
    placed at one, else the town) × month × metric, before any rollup. Counts carry
    only a numerator; rates a numerator and a denominator, so that rollups can
    recompute them. Quarantined records never count. -#}
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

incident_totals as (

    select
        placed_code, month_start,
        'police_incidents_total'                    as metric_code,
        count(*)                                    as numerator,
        null::numeric                               as denominator
    from placed_incidents
    group by placed_code, month_start

),

category_counts as (

    select
        placed_code, month_start,
        'police_incidents_' || category_key         as metric_code,
        count(*)                                    as numerator,
        null::numeric                               as denominator
    from placed_incidents
    group by placed_code, month_start, category_key

),

subcategory_counts as (

    select
        placed_incidents.placed_code, placed_incidents.month_start,
        'police_incidents_sub_' || subcategories.subcategory_code as metric_code,
        count(*)                                    as numerator,
        null::numeric                               as denominator
    from placed_incidents
    inner join subcategories
        on placed_incidents.subcategory_code = subcategories.subcategory_code
    group by placed_incidents.placed_code, placed_incidents.month_start,
        subcategories.subcategory_code

),

arrival_minutes as (

    select
        placed_code, month_start,
        'police_arrival_minutes'                    as metric_code,
        sum(extract(epoch from arrived_at - reported_at) / 60.0) as numerator,
        count(*)::numeric                           as denominator
    from placed_incidents
    where arrived_at >= reported_at
    group by placed_code, month_start

),

callback_satisfaction as (

    select
        placed_code, month_start,
        'police_callback_satisfaction_rate'         as metric_code,
        count(*) filter (
            where callback_satisfaction in ('满意', '基本满意')
        )                                           as numerator,
        count(*)::numeric                           as denominator
    from placed_incidents
    where callback_satisfaction in ('满意', '基本满意', '不满意')
    group by placed_code, month_start

),

warning_counts as (

    select
        placed_code, month_start,
        'fraud_warnings'                            as metric_code,
        count(*)                                    as numerator,
        null::numeric                               as denominator
    from placed_warnings
    group by placed_code, month_start

),

dissuasion as (

    select
        placed_code, month_start,
        'fraud_dissuasion_rate'                     as metric_code,
        count(*) filter (where dissuasion_result = '劝阻成功') as numerator,
        count(*)::numeric                           as denominator
    from placed_warnings
    group by placed_code, month_start

),

stopped_amount as (

    select
        placed_code, month_start,
        'fraud_stopped_amount_yuan'                 as metric_code,
        coalesce(sum(stopped_amount_yuan), 0)       as numerator,
        null::numeric                               as denominator
    from placed_warnings
    group by placed_code, month_start

),

unioned as (

    select * from incident_totals
    union all select * from category_counts
    union all select * from subcategory_counts
    union all select * from arrival_minutes
    union all select * from callback_satisfaction
    union all select * from warning_counts
    union all select * from dissuasion
    union all select * from stopped_amount

),

final as (

    {{ metric_facts_final('unioned') }}

)

select * from final
