{#- Which version of each scheme publishes each month: the latest version whose
    valid_from is not after the month. Months before a scheme's first version are
    not published. Also gives the versions that published the previous month and
    the same month last year, so the marts can mark a comparison restated.
    Grain: scheme × month. -#}
with

versions as (

    select * from {{ ref('stg_schemes__versions') }}

),

scored_months as (

    select distinct scheme_code, month_start
    from {{ ref('int_scheme_units_ranked') }}

),

applicable as (

    select
        scored_months.scheme_code,
        scored_months.month_start,
        max(versions.scheme_version)                        as scheme_version
    from scored_months
    inner join versions
        on scored_months.scheme_code = versions.scheme_code
        and versions.valid_from <= scored_months.month_start
    group by scored_months.scheme_code, scored_months.month_start

),

final as (

    select
        applicable.scheme_code,
        applicable.month_start,
        applicable.scheme_version,
        previous_month.scheme_version                       as previous_month_version,
        last_year.scheme_version                            as last_year_version
    from applicable
    left join applicable as previous_month
        on applicable.scheme_code = previous_month.scheme_code
        and previous_month.month_start = cast(applicable.month_start - interval '1 month' as date)
    left join applicable as last_year
        on applicable.scheme_code = last_year.scheme_code
        and last_year.month_start = cast(applicable.month_start - interval '12 months' as date)

)

select * from final
