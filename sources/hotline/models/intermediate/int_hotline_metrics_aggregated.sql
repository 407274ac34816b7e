{{ metric_model_config() }}
{#- Hotline metric facts: work orders accepted in the month at the placed village (or
    town), all of them and those whose category concerns public safety. -#}
with

complaints as (

    select * from {{ ref('stg_hotline__complaints') }}

),

placed as (

    select
        *,
        cast(accepted_month as date)                as month_start,
        coalesce(village_code, township_code)       as placed_code
    from complaints
    {{ incremental_month_filter('accepted_month', [
        (ref('base_hotline__complaints'), 'accepted_at')
    ]) }}

),

counted as (

    select placed_code, month_start, 'hotline_complaints' as metric_code,
        count(*)::numeric as numerator, null::numeric as denominator
    from placed
    group by placed_code, month_start

    union all

    select placed_code, month_start, 'hotline_safety_complaints',
        count(*) filter (where is_public_safety), null
    from placed
    group by placed_code, month_start

),

final as (

    select
        placed_code                                 as region_code,
        month_start,
        metric_code,
        cast(numerator as numeric)                  as numerator,
        cast(denominator as numeric)                as denominator,
        now()                                       as built_at
    from counted

)

select * from final
