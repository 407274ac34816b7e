{{ metric_model_config() }}
{#- Survey metric facts: a quarter's survey is published after the quarter ends, so
    its scores hold for the three months of the following quarter (the latest
    survey a monthly index can use: Q2's for July to September). A score is kept as score × sample size over sample size, so that a
    rollup is the sample-weighted mean, never a mean of means.
    Summed from the records behind them (int_survey_metric_records): a fact is what
    its records add up to. -#}
with

records as (

    select * from {{ ref('int_survey_metric_records') }}
    {{ records_rebuilt_filter() }}

),

final as (

    {{ metric_facts_summed('records') }}

)

select * from final
