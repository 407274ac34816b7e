{#- Every metric of every region for every month its source delivered, beside the
    previous month, the same month last year, the year to date (January to the
    month) and the same months last year. Numerators and denominators are summed
    over the year to date and the rate recomputed from them, never averaged.

    The rollup is dense over every month any source delivered, so a month only the
    quarterly survey delivered holds zero police counts; such rows are left out
    here (a source has delivered a month when any of its metrics has a non-zero
    numerator or denominator in it, as scoring decides). A month that is not here
    is missing, not zero: its comparisons are null.

    The same period last year is like for like: the same months as this year's
    year to date, and null when any of them is missing last year.
    Grain: region_code × month_start × metric_code. -#}
with

catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

source_months as (

    {#- The rollup is read by name here and in `delivered` rather than through one
        CTE: a CTE read twice is materialised (3.4 million rows of a province
        written to disk and read back). -#}
    select
        catalogue.source,
        metrics.month_start
    from {{ ref('int_region_metrics_rolled_up') }} as metrics
    inner join catalogue
        on metrics.metric_code = catalogue.metric_code
    where metrics.numerator > 0
       or metrics.denominator > 0
    group by catalogue.source, metrics.month_start

),

delivered as (

    select
        metrics.region_code,
        metrics.region_level,
        metrics.month_start,
        cast(date_trunc('year', metrics.month_start) as date)  as year_start,
        metrics.metric_code,
        metrics.metric_kind,
        catalogue.unit,
        metrics.value,
        metrics.numerator,
        metrics.denominator
    from {{ ref('int_region_metrics_rolled_up') }} as metrics
    inner join catalogue
        on metrics.metric_code = catalogue.metric_code
    inner join source_months
        on catalogue.source = source_months.source
        and metrics.month_start = source_months.month_start

),

with_earlier_months as (

    {#- The previous month's and the same month last year's row of the same region
        and metric, by window frames over exactly that month (the grain makes it one
        row at most): one sort instead of two self-joins of 1.1 million rows. Cast
        back to the columns' type, which max() drops. -#}
    select
        delivered.*,
        count(*) over last_year > 0                             as has_last_year,
        cast(max(value) over last_year as numeric(18, 4))       as last_year_value,
        cast(max(numerator) over last_year as numeric(18, 4))   as last_year_numerator,
        cast(max(denominator) over last_year as numeric(18, 4)) as last_year_denominator,
        cast(max(value) over previous_month as numeric(18, 4))  as previous_month_value,
        cast(max(numerator) over previous_month as numeric(18, 4))
                                                               as previous_month_numerator,
        cast(max(denominator) over previous_month as numeric(18, 4))
                                                               as previous_month_denominator
    from delivered
    window
        last_year as (
            partition by region_code, metric_code
            order by month_start
            range between interval '1 year' preceding and interval '1 year' preceding
        ),
        previous_month as (
            partition by region_code, metric_code
            order by month_start
            range between interval '1 month' preceding and interval '1 month' preceding
        )

),

accumulated as (

    select
        with_earlier_months.*,
        count(*) over year_to_date                             as ytd_months,
        sum(numerator) over year_to_date                       as ytd_numerator,
        sum(denominator) over year_to_date                     as ytd_denominator,
        count(*) filter (where not has_last_year) over year_to_date
                                                               as ytd_months_missing_last_year,
        sum(last_year_numerator) over year_to_date             as last_year_ytd_numerator_summed,
        sum(last_year_denominator) over year_to_date           as last_year_ytd_denominator_summed
    from with_earlier_months
    window year_to_date as (
        partition by region_code, metric_code, year_start
        order by month_start
        rows between unbounded preceding and current row
    )

),

like_for_like as (

    select
        accumulated.*,
        case when ytd_months_missing_last_year = 0
             then last_year_ytd_numerator_summed end           as last_year_ytd_numerator,
        case when ytd_months_missing_last_year = 0
             then last_year_ytd_denominator_summed end         as last_year_ytd_denominator
    from accumulated

),

final as (

    select
        region_code,
        region_level,
        month_start,
        metric_code,
        metric_kind,
        unit,
        value,
        numerator,
        denominator,
        previous_month_value,
        previous_month_numerator,
        previous_month_denominator,
        last_year_value,
        last_year_numerator,
        last_year_denominator,
        cast(ytd_months as integer)                            as ytd_months,
        cast(
            {{ metric_value('metric_kind', 'unit', 'ytd_numerator', 'ytd_denominator') }}
            as numeric(18, 4)
        )                                                      as ytd_value,
        cast(ytd_numerator as numeric(18, 4))                  as ytd_numerator,
        cast(ytd_denominator as numeric(18, 4))                as ytd_denominator,
        cast(
            {{ metric_value('metric_kind', 'unit', 'last_year_ytd_numerator', 'last_year_ytd_denominator') }}
            as numeric(18, 4)
        )                                                      as last_year_ytd_value,
        cast(last_year_ytd_numerator as numeric(18, 4))        as last_year_ytd_numerator,
        cast(last_year_ytd_denominator as numeric(18, 4))      as last_year_ytd_denominator
    from like_for_like

)

select * from final
