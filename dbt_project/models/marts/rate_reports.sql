{#- Rate tables for bulletins (resolution, completion, satisfaction, rectification,
    dissuasion, arrival time, survey scores): every region at every level, every
    month its source delivered and every rate of the metric catalogue, with its
    numerator and denominator, the previous month's, the same month last year's and
    the year to date's (January to the month: summed numerators over summed
    denominators, never a mean of monthly rates). A rate without a denominator, or
    of a month the source did not deliver, is null.
    Grain: region_code × month_start × metric_code. -#}
with

compared as (

    select * from {{ ref('int_report_periods_compared') }}

),

catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

regions as (

    select * from {{ ref('int_regions_populated') }}

),

rates as (

    select * from compared
    where metric_kind = 'rate'

),

final as (

    select
        rates.region_code,
        regions.region_name,
        rates.region_level,
        regions.parent_code,
        rates.month_start,
        rates.metric_code,
        catalogue.metric_name,
        catalogue.unit,
        cast(rates.numerator as numeric(18, 4))                     as numerator,
        cast(rates.denominator as numeric(18, 4))                   as denominator,
        cast(rates.value as numeric(18, 4))                         as value,
        cast(rates.previous_month_numerator as numeric(18, 4))      as previous_month_numerator,
        cast(rates.previous_month_denominator as numeric(18, 4))    as previous_month_denominator,
        cast(rates.previous_month_value as numeric(18, 4))          as previous_month_value,
        cast(rates.value - rates.previous_month_value as numeric(18, 4))
                                                                    as previous_month_change,
        cast(rates.last_year_value as numeric(18, 4))               as last_year_value,
        cast(rates.value - rates.last_year_value as numeric(18, 4)) as last_year_change,
        rates.ytd_months,
        rates.ytd_numerator,
        rates.ytd_denominator,
        rates.ytd_value,
        rates.last_year_ytd_value,
        cast(rates.ytd_value - rates.last_year_ytd_value as numeric(18, 4))
                                                                    as ytd_change
    from rates
    inner join catalogue
        on rates.metric_code = catalogue.metric_code
    left join regions
        on rates.region_code = regions.region_code

)

select * from final
