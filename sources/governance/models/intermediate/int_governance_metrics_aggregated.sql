{{ metric_model_config() }}
{#- Governance metric facts: petitions and disputes at the placed village (or town),
    by the month they were received or found. Completion, satisfaction and
    resolution are cohort rates: of the month's petitions (disputes), how many were
    completed (resolved) by the month's data cutoff (macro done_by_cutoff), so work
    done later does not revise a published month. A completion without a valid date
    counts: its status is all the source says. -#}
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
        placed.placed_code,
        placed.month_start,
        petitions.*,
        petitions.status_key = 'completed' and coalesce(
            {{ done_by_cutoff('petitions.completed_on', 'placed.month_start') }}, true
        )                                       as is_completed_by_cutoff
    from placed
    inner join petitions
        on placed.record_no = petitions.petition_no
    where placed.record_type = 'petition'

),

placed_disputes as (

    select
        placed.placed_code,
        placed.month_start,
        disputes.*,
        disputes.outcome_key = 'mediated' and coalesce(
            {{ done_by_cutoff('disputes.resolved_on', 'placed.month_start') }}, true
        )                                       as is_resolved_by_cutoff
    from placed
    inner join disputes
        on placed.record_no = disputes.dispute_no
    where placed.record_type = 'dispute'

),

petition_metrics as (

    select placed_code, month_start, 'petitions_received' as metric_code,
        count(*)::numeric as numerator, null::numeric as denominator
    from placed_petitions group by placed_code, month_start

    union all

    select placed_code, month_start, 'petitions_completed',
        count(*) filter (where is_completed_by_cutoff), null
    from placed_petitions group by placed_code, month_start

    union all

    select placed_code, month_start, 'petition_completion_rate',
        count(*) filter (where is_completed_by_cutoff), count(*)
    from placed_petitions group by placed_code, month_start

    union all

    select placed_code, month_start, 'petitions_satisfied',
        count(*) filter (where satisfaction_key in ('satisfied', 'basically_satisfied')), null
    from placed_petitions group by placed_code, month_start

    union all

    select placed_code, month_start, 'petition_satisfaction_rate',
        count(*) filter (where satisfaction_key in ('satisfied', 'basically_satisfied')),
        count(*) filter (
            where satisfaction_key in ('satisfied', 'basically_satisfied', 'dissatisfied')
        )
    from placed_petitions group by placed_code, month_start

    union all

    select placed_code, month_start, 'petitions_repeat',
        count(*) filter (where is_repeat), null
    from placed_petitions group by placed_code, month_start

    union all

    select placed_code, month_start, 'petitions_group',
        count(*) filter (where is_group), null
    from placed_petitions group by placed_code, month_start

    union all

    select placed_code, month_start, 'petitions_escalated',
        count(*) filter (where is_escalated), null
    from placed_petitions group by placed_code, month_start

),

dispute_metrics as (

    select placed_code, month_start, 'disputes_found' as metric_code,
        count(*)::numeric as numerator, null::numeric as denominator
    from placed_disputes group by placed_code, month_start

    union all

    select placed_code, month_start, 'disputes_resolved',
        count(*) filter (where is_resolved_by_cutoff), null
    from placed_disputes group by placed_code, month_start

    union all

    select placed_code, month_start, 'dispute_resolution_rate',
        count(*) filter (where is_resolved_by_cutoff), count(*)
    from placed_disputes group by placed_code, month_start

),

unioned as (

    select * from petition_metrics
    union all
    select * from dispute_metrics

),

final as (

    {{ metric_facts_final('unioned') }}

)

select * from final
