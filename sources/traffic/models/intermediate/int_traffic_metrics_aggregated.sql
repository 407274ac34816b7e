{{ metric_model_config() }}
{#- Traffic metric facts: accidents with deaths and injuries at the placed village
    (or town); violations at the town, as the traffic platform's monthly statistics
    give them (the latest snapshot of each month).
    Summed from the records behind them (int_traffic_metric_records): a fact is what
    its records add up to. -#}
with

records as (

    select * from {{ ref('int_traffic_metric_records') }}
    {{ records_rebuilt_filter() }}

),

final as (

    {{ metric_facts_summed('records') }}

)

select * from final
