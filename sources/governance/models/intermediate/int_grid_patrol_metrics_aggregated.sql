{{ metric_model_config() }}
{#- Grid-patrol metric facts (网格巡查): patrols, issues found and the rectification
    rate, per patrol type and over all types, at the placed village (or town),
    incremental by month. The rate is a cohort rate: of the issues found by the
    month's patrols, how many are rectified by now. Unlike petitions and disputes it is
    not measured at the data cutoff: a patrol records no rectification date, only a
    new version, and a backfill that never saw the version in force at the cutoff
    could not recompute it (it would differ from the runs that did).
    Summed from the records behind them (int_grid_patrol_metric_records): a fact is what
    its records add up to. -#}
with

records as (

    select * from {{ ref('int_grid_patrol_metric_records') }}
    {{ records_rebuilt_filter() }}

),

final as (

    {{ metric_facts_summed('records') }}

)

select * from final
