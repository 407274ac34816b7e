{{ metric_model_config() }}
{#- Police metric facts: one row per placed region (the village when the record was
    placed at one, else the town) × month × metric, before any rollup. Counts carry
    only a numerator; rates a numerator and a denominator, so that rollups can
    recompute them. Quarantined records never count.
    Summed from the records behind them (int_police_metric_records): a fact is what
    its records add up to. -#}
with

records as (

    select * from {{ ref('int_police_metric_records') }}
    {{ records_rebuilt_filter() }}

),

final as (

    {{ metric_facts_summed('records') }}

)

select * from final
