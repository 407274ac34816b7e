{#- Region × month metrics in long form. Township rows are computed from the
    located incidents; county rows are rolled up from townships: counts add,
    ratios are recomputed from summed numerators and denominators. -#}
with

incidents as (

    select * from {{ ref('int_police_incidents_located') }}
    where quarantine_reason is null

),

townships as (

    select * from {{ ref('int_townships_populated') }}

),

categories as (

    select * from {{ ref('police_incident_categories') }}

),

months as (

    select distinct reported_month as month_start
    from incidents

),

grid as (

    select
        townships.township_code,
        townships.county_code,
        months.month_start,
        categories.category_key
    from townships
    cross join months
    cross join categories

),

category_counts as (

    select
        township_code,
        reported_month      as month_start,
        category_key,
        count(*)            as incidents
    from incidents
    group by township_code, reported_month, category_key

),

incident_metrics as (

    select
        grid.township_code                                      as region_code,
        grid.county_code,
        grid.month_start,
        'police_incidents_' || grid.category_key                as metric_code,
        'count'                                                 as metric_kind,
        cast(coalesce(category_counts.incidents, 0) as numeric) as numerator,
        cast(null as numeric)                                   as denominator
    from grid
    left join category_counts
        on grid.township_code = category_counts.township_code
        and grid.month_start = category_counts.month_start
        and grid.category_key = category_counts.category_key

),

arrival_metrics as (

    select
        township_code                                           as region_code,
        reported_month                                          as month_start,
        'police_arrival_minutes'                                as metric_code,
        'ratio'                                                 as metric_kind,
        sum(
            {{ dbt.datediff('reported_at', 'arrived_at', 'second') }} / 60.0
        )                                                       as numerator,
        cast(count(*) as numeric)                               as denominator
    from incidents
    where arrived_at is not null
    group by township_code, reported_month

),

township_metrics as (

    select region_code, month_start, metric_code, metric_kind, numerator, denominator
    from incident_metrics

    union all

    select region_code, month_start, metric_code, metric_kind, numerator, denominator
    from arrival_metrics

),

county_metrics as (

    select
        townships.county_code                   as region_code,
        township_metrics.month_start,
        township_metrics.metric_code,
        township_metrics.metric_kind,
        sum(township_metrics.numerator)         as numerator,
        sum(township_metrics.denominator)       as denominator
    from township_metrics
    inner join townships
        on township_metrics.region_code = townships.township_code
    group by
        townships.county_code,
        township_metrics.month_start,
        township_metrics.metric_code,
        township_metrics.metric_kind

),

unioned as (

    select 'township' as region_level, * from township_metrics

    union all

    select 'county' as region_level, * from county_metrics

),

final as (

    select
        region_code,
        region_level,
        cast(month_start as date)               as month_start,
        metric_code,
        metric_kind,
        cast(
            case
                when metric_kind = 'count' then numerator
                when denominator > 0 then numerator / denominator
            end as {{ dbt.type_numeric() }}
        )                                       as value,
        cast(numerator as {{ dbt.type_numeric() }})     as numerator,
        cast(denominator as {{ dbt.type_numeric() }})   as denominator
    from unioned

)

select * from final
