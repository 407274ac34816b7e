{#- Every reported metric of every region for every month its source delivered, beside the
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
    Grain: region_code × month_start × metric_code.

    Incremental by month, like the rollup it reads: a run recomputes only the months
    from the first one the rollup rebuilt since this model was last built. A change
    in month m moves m, the next month, the rest of m's year (year to date) and the
    same months a year later (last year's columns), all from m on; they are computed
    from January of the year before m, the earliest month their windows read. A
    month is replaced whole (delete+insert by month_start). Outside an incremental
    run (first build, --full-refresh), or over a table built before this model was
    incremental (no built_at: the column is added), every month is built.

    Reported metrics are those the reports read: every rate (marts.rate_reports) and
    the counts of incident_trend_metrics (marts.incident_trends). The catalogue's other
    counts (90 metrics in all) were two thirds of this model's rows at a province's
    scale and read by nothing; a source's delivered months are still decided from all
    of its metrics. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='month_start',
    on_schema_change='append_new_columns'
) }}
with

catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

trend_metrics as (

    select * from {{ ref('incident_trend_metrics') }}

),

reported as (

    select catalogue.metric_code
    from catalogue
    where catalogue.kind = 'rate'
        or catalogue.metric_code in (select trend_metrics.metric_code from trend_metrics)

),

rebuilt as (

    {#- the first month to recompute, and the first month its windows read -#}
    select
        first_month,
        cast(date_trunc('year', first_month) - interval '1 year' as date)  as read_from
    from (
        {%- if is_incremental() and 'built_at' in (
            adapter.get_columns_in_relation(this) | map(attribute='name') | list
        ) %}
        select min(month_start) as first_month
        from {{ ref('int_region_metrics_rolled_up') }}
        where built_at > (
            select coalesce(max(built_at), '-infinity'::timestamptz) from {{ this }}
        )
        {%- else %}
        select cast('-infinity' as date) as first_month
        {%- endif %}
    ) as changed

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
    where (metrics.numerator > 0 or metrics.denominator > 0)
        and metrics.month_start >= (select read_from from rebuilt)
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
    inner join reported
        on metrics.metric_code = reported.metric_code
    where metrics.month_start >= (select read_from from rebuilt)

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
        cast(last_year_ytd_denominator as numeric(18, 4))      as last_year_ytd_denominator,
        now()                                                  as built_at
    from like_for_like
    where month_start >= (select first_month from rebuilt)

)

select * from final
