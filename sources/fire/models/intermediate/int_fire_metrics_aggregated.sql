{{ metric_model_config() }}
{#- Fire metric facts: fires with their deaths, injuries and direct loss at the
    placed village (or town); inspection hazards at the town, the finest level the
    monthly inspection return carries.
    Summed from the records behind them (int_fire_metric_records): a fact is what
    its records add up to. -#}
with

records as (

    select * from {{ ref('int_fire_metric_records') }}
    {{ records_rebuilt_filter() }}

),

final as (

    {{ metric_facts_summed('records') }}

)

select * from final
