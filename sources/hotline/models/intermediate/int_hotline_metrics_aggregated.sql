{{ metric_model_config() }}
{#- Hotline metric facts: work orders accepted in the month at the placed village (or
    town), all of them and those whose category concerns public safety. -#}
with

complaints as (

    select * from {{ ref('stg_hotline__complaints') }}

),

placed as (

    {{ placed_by_month('complaints', 'accepted_month', [
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

    {{ metric_facts_final('counted') }}

)

select * from final
