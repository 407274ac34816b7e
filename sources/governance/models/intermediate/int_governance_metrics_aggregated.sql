{{ metric_model_config() }}
{#- Governance metric facts: petitions and disputes at the placed village (or town),
    by the month they were received or found. Completion, satisfaction and
    resolution are cohort rates: of the month's petitions (disputes), how many were
    completed (resolved) by the month's data cutoff (macro done_by_cutoff), so work
    done later does not revise a published month. A completion without a valid date
    counts: its status is all the source says.
    Summed from the records behind them (int_governance_metric_records): a fact is what
    its records add up to. -#}
with

records as (

    select * from {{ ref('int_governance_metric_records') }}
    {{ records_rebuilt_filter() }}

),

final as (

    {{ metric_facts_summed('records') }}

)

select * from final
