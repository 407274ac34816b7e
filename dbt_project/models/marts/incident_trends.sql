{#- Incident trends for bulletins: every region at every level, every month its
    source delivered and every count of incident_trend_metrics, with the change
    against the previous month (环比), the same month last year (同比) and the year
    to date against the same months last year. A change is null when its base is 0
    or missing (a month the source did not deliver). Each month-on-month and
    year-on-year change also says whether it is more than chance (exact conditional
    binomial test, macros/poisson.sql): bulletins word it 明显上升 only then.
    Grain: region_code × month_start × metric_code. -#}
with

compared as (

    select * from {{ ref('int_report_periods_compared') }}

),

trend_metrics as (

    select * from {{ ref('incident_trend_metrics') }}

),

catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

regions as (

    select * from {{ ref('int_regions_populated') }}

),

critical as (

    select * from {{ ref('poisson_change_critical_05') }}

),

trends as (

    select
        compared.*,
        trend_metrics.sort_order
    from compared
    inner join trend_metrics
        on compared.metric_code = trend_metrics.metric_code

),

described as (

    select
        trends.region_code,
        regions.region_name,
        trends.region_level,
        regions.parent_code,
        trends.month_start,
        trends.metric_code,
        catalogue.metric_name,
        catalogue.unit,
        cast(trends.sort_order as integer)                          as sort_order,
        cast(trends.value as bigint)                                as incident_count,
        cast(trends.previous_month_value as bigint)                 as previous_month_count,
        cast(
            {{ pct_change('trends.value', 'trends.previous_month_value') }}
            as numeric(12, 2)
        )                                                           as previous_month_change_pct,
        cast(trends.last_year_value as bigint)                      as last_year_count,
        cast(
            {{ pct_change('trends.value', 'trends.last_year_value') }}
            as numeric(12, 2)
        )                                                           as last_year_change_pct,
        trends.ytd_months,
        cast(trends.ytd_value as bigint)                            as ytd_count,
        cast(trends.last_year_ytd_value as bigint)                  as last_year_ytd_count,
        cast(
            {{ pct_change('trends.ytd_value', 'trends.last_year_ytd_value') }}
            as numeric(12, 2)
        )                                                           as ytd_change_pct
    from trends
    inner join catalogue
        on trends.metric_code = catalogue.metric_code
    left join regions
        on trends.region_code = regions.region_code

),

tested as (

    select
        described.*,
        {{ count_changes_tested('described.incident_count', 'described.previous_month_count',
                                'described.last_year_count') }}
    from described
    left join critical as previous_month_critical
        on described.incident_count + described.previous_month_count
            = previous_month_critical.two_period_total
    left join critical as last_year_critical
        on described.incident_count + described.last_year_count
            = last_year_critical.two_period_total

),

final as (

    select
        region_code,
        region_name,
        region_level,
        parent_code,
        month_start,
        metric_code,
        metric_name,
        unit,
        sort_order,
        incident_count,
        previous_month_count,
        previous_month_change_pct,
        cast(previous_month_z as numeric(8, 2))                     as previous_month_z,
        previous_month_change,
        last_year_count,
        last_year_change_pct,
        cast(last_year_z as numeric(8, 2))                          as last_year_z,
        last_year_change,
        ytd_months,
        ytd_count,
        last_year_ytd_count,
        ytd_change_pct
    from tested

)

select * from final
