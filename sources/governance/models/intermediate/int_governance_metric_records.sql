{{ metric_model_config() }}
{#- Governance metric records: every petition and dispute counted in a governance
    metric fact (int_governance_metrics_aggregated), each adding 1 to a count or to a
    rate's numerator: received, completed by the data cutoff, satisfied, repeat, group,
    escalated; found, resolved by the cutoff; and 1 to a rate's denominator (every
    petition or dispute its rate is of, those adding 0 to its numerator too). Summed
    by placed region, month and metric, they are the facts. Grid patrols list theirs in
    int_grid_patrol_metric_records. Incremental by month, like the facts. Grain: metric_code × source_entity × record_key. -#}
with

located as (

    select * from {{ ref('int_governance_records_located') }}
    where quarantine_reason is null

),

petitions as (

    select * from {{ ref('stg_governance__petitions') }}

),

disputes as (

    select * from {{ ref('stg_governance__disputes') }}

),

placed as (

    {{ placed_by_month('located', 'occurred_month', [
        (ref('base_governance__petitions'), 'received_at'),
        (ref('base_governance__disputes'), 'found_on')
    ]) }}

),

placed_petitions as (

    select
        placed.*,
        petitions.status_key = 'completed' and coalesce(
            {{ done_by_cutoff('petitions.completed_on', 'placed.month_start') }}, true
        )                                       as is_completed_by_cutoff,
        petitions.satisfaction_key in ('satisfied', 'basically_satisfied') as is_satisfied,
        petitions.satisfaction_key in ('satisfied', 'basically_satisfied', 'dissatisfied')
                                                as is_rated,
        petitions.is_repeat,
        petitions.is_group,
        petitions.is_escalated
    from placed
    inner join petitions
        on placed.record_no = petitions.petition_no
    where placed.record_type = 'petition'

),

placed_disputes as (

    select
        placed.*,
        disputes.outcome_key = 'mediated' and coalesce(
            {{ done_by_cutoff('disputes.resolved_on', 'placed.month_start') }}, true
        )                                       as is_resolved_by_cutoff
    from placed
    inner join disputes
        on placed.record_no = disputes.dispute_no
    where placed.record_type = 'dispute'

),

petition_metrics as (

    select record_no, 'petitions_received' as metric_code,
        1 as contribution, null::numeric as denominator
    from placed_petitions
    union all
    select record_no, 'petitions_completed', 1, null
    from placed_petitions where is_completed_by_cutoff
    union all
    select record_no, 'petition_completion_rate', case when is_completed_by_cutoff then 1 else 0 end, 1
    from placed_petitions
    union all
    select record_no, 'petitions_satisfied', 1, null from placed_petitions where is_satisfied
    union all
    select record_no, 'petition_satisfaction_rate', case when is_satisfied then 1 else 0 end, 1
    from placed_petitions where is_rated
    union all
    select record_no, 'petitions_repeat', 1, null from placed_petitions where is_repeat
    union all
    select record_no, 'petitions_group', 1, null from placed_petitions where is_group
    union all
    select record_no, 'petitions_escalated', 1, null from placed_petitions where is_escalated

),

dispute_metrics as (

    select record_no, 'disputes_found' as metric_code,
        1 as contribution, null::numeric as denominator
    from placed_disputes
    union all
    select record_no, 'disputes_resolved', 1, null
    from placed_disputes where is_resolved_by_cutoff
    union all
    select record_no, 'dispute_resolution_rate', case when is_resolved_by_cutoff then 1 else 0 end, 1
    from placed_disputes

),

records as (

    select
        placed_petitions.placed_code,
        placed_petitions.month_start,
        petition_metrics.metric_code,
        'governance.petitions'                      as source_entity,
        placed_petitions.record_no                  as record_key,
        placed_petitions.occurred_on                as occurred_at,
        placed_petitions.kind_key                   as category,
        placed_petitions.placement_method,
        placed_petitions.batch_id,
        placed_petitions.source_ref,
        petition_metrics.contribution,
        petition_metrics.denominator
    from petition_metrics
    inner join placed_petitions
        on petition_metrics.record_no = placed_petitions.record_no

    union all

    select
        placed_disputes.placed_code,
        placed_disputes.month_start,
        dispute_metrics.metric_code,
        'governance.disputes',
        placed_disputes.record_no,
        placed_disputes.occurred_on,
        placed_disputes.kind_key,
        placed_disputes.placement_method,
        placed_disputes.batch_id,
        placed_disputes.source_ref,
        dispute_metrics.contribution,
        dispute_metrics.denominator
    from dispute_metrics
    inner join placed_disputes
        on dispute_metrics.record_no = placed_disputes.record_no

),

final as (

    {{ metric_records_final('records') }}

)

select * from final
