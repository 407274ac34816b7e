{{ metric_model_config() }}
{#- Hotline metric facts: work orders accepted in the month at the placed village (or
    town), all of them and those whose category concerns public safety.
    Summed from the records behind them (int_hotline_metric_records): a fact is what
    its records add up to. -#}
with

records as (

    select * from {{ ref('int_hotline_metric_records') }}
    {{ records_rebuilt_filter() }}

),

final as (

    {{ metric_facts_summed('records') }}

)

select * from final
