{{ metric_model_config() }}
{#- Survey metric facts: a quarter's survey is published after the quarter ends, so
    its scores hold for the three months of the following quarter (the latest
    survey a monthly index can use: Q2's for July to September). A score is kept as score × sample size over sample size, so that a
    rollup is the sample-weighted mean, never a mean of means. -#}
with

scores as (

    select * from {{ ref('stg_survey__scores') }}
    where township_code is not null

),

months as (

    select
        scores.*,
        cast(scores.quarter_start + make_interval(months => 3 + offsets.offset_months) as date)
                                                    as month_start
    from scores
    cross join generate_series(0, 2) as offsets (offset_months)

),

monthly as (

    select * from months
    {{ incremental_month_filter('month_start', [
        (ref('base_survey__scores'), "quarter_start + interval '3 months'"),
        (ref('base_survey__scores'), "quarter_start + interval '4 months'"),
        (ref('base_survey__scores'), "quarter_start + interval '5 months'")
    ]) }}

),

unioned as (

    select township_code, month_start, 'survey_security_score' as metric_code,
        sum(security_score * sample_size) as numerator, sum(sample_size)::numeric as denominator
    from monthly
    where security_score is not null and sample_size > 0
    group by township_code, month_start

    union all

    select township_code, month_start, 'survey_satisfaction_score',
        sum(satisfaction_score * sample_size), sum(sample_size)
    from monthly
    where satisfaction_score is not null and sample_size > 0
    group by township_code, month_start

),

final as (

    {{ metric_facts_final('unioned', region_column='township_code') }}

)

select * from final
