{{ metric_model_config() }}
{#- Survey metric records: every quarterly survey result (one per town and quarter,
    counted in the three months after its quarter, as int_survey_metrics_aggregated
    counts it) with what it adds to the sample-weighted scores: its score times its
    sample size to the numerator, its sample size to the denominator. Summed by town,
    month and metric, they are the facts.
    Incremental by month, like the facts. Grain: month_start × metric_code × record_key. -#}
with

scores as (

    select * from {{ ref('stg_survey__scores') }}
    where township_code is not null

),

months as (

    select
        scores.*,
        cast(scores.quarter_start + make_interval(months => 3 + offsets.offset_months) as date)
                                                    as month_start,
        scores.township_code || ':' || to_char(scores.quarter_start, 'YYYY"Q"Q') as record_key
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

score_metrics as (

    select record_key, month_start, 'survey_security_score' as metric_code,
        security_score * sample_size as contribution, sample_size::numeric as denominator
    from monthly
    where security_score is not null and sample_size > 0

    union all

    select record_key, month_start, 'survey_satisfaction_score',
        satisfaction_score * sample_size, sample_size
    from monthly
    where satisfaction_score is not null and sample_size > 0

),

records as (

    select
        monthly.township_code                       as placed_code,
        monthly.month_start,
        score_metrics.metric_code,
        'survey.scores'                             as source_entity,
        monthly.record_key,
        monthly.quarter_start                       as occurred_at,
        null                                        as category,
        'region_code'                               as placement_method,
        monthly.batch_id,
        monthly.source_file || '#' || monthly.source_row as source_ref,
        score_metrics.contribution,
        score_metrics.denominator
    from score_metrics
    inner join monthly
        on score_metrics.record_key = monthly.record_key
        and score_metrics.month_start = monthly.month_start

),

final as (

    {{ metric_records_final('records') }}

)

select * from final
