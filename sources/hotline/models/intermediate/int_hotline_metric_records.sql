{{ metric_model_config() }}
{#- Hotline metric records: every complaint counted in a hotline metric fact
    (int_hotline_metrics_aggregated), adding 1 to the complaints and, when it is about
    public safety, to the safety complaints. Summed by placed region, month and metric
    they are the facts. Incremental by month,
    like the facts. Grain: metric_code × record_key. -#}
with

complaints as (

    select * from {{ ref('stg_hotline__complaints') }}

),

placed as (

    {{ placed_by_month('complaints', 'accepted_month', [
        (ref('base_hotline__complaints'), 'accepted_at')
    ]) }}

),

complaint_metrics as (

    select order_no, 'hotline_complaints' as metric_code,
        1::numeric as contribution, null::numeric as denominator
    from placed

    union all

    select order_no, 'hotline_safety_complaints', 1, null
    from placed where is_public_safety

),

records as (

    select
        placed.placed_code,
        placed.month_start,
        complaint_metrics.metric_code,
        'hotline.complaints'                        as source_entity,
        placed.order_no                             as record_key,
        placed.accepted_at                          as occurred_at,
        placed.category,
        'region_code'                               as placement_method,
        placed.batch_id,
        placed.source_ref,
        complaint_metrics.contribution,
        complaint_metrics.denominator
    from complaint_metrics
    inner join placed
        on complaint_metrics.order_no = placed.order_no

),

final as (

    {{ metric_records_final('records') }}

)

select * from final
