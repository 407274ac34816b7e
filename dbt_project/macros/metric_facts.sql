{#- The two steps every metric fact model (sources/<name>/models/**/
    int_*_metrics_aggregated.sql) shares; what it counts stays in the model. -#}

{#- Records placed for counting: each with the month it counts in (month_start) and
    the region it counts at (placed_code: its village, else its town), only the months
    an incremental run rebuilds (macro incremental_month_filter; `changed` as there). -#}
{% macro placed_by_month(relation, month_column, changed) -%}
    select
        *,
        cast({{ month_column }} as date)            as month_start,
        coalesce(village_code, township_code)       as placed_code
    from {{ relation }}
    {{ incremental_month_filter(month_column, changed) }}
{%- endmacro %}

{#- A source's facts as int_metric_facts_unioned reads them (generic test
    metric_facts), summed from the records behind them (its int_*_metric_records
    model): region_code × month_start × metric_code, numerator, denominator (null for a
    count), built_at (what the rollup's incremental filter compares). A fact is what
    its records add up to, so every deduction can be traced to them; a count with no
    record has no fact (the rollup makes it 0). -#}
{% macro metric_facts_summed(records) -%}
    select
        placed_code                                 as region_code,
        month_start,
        metric_code,
        sum(contribution)                           as numerator,
        sum(denominator)                            as denominator,
        now()                                       as built_at
    from {{ records }}
    group by placed_code, month_start, metric_code
{%- endmacro %}

{#- The months of a source's records rebuilt since its facts were last built: the
    records model rebuilds whole months (delete+insert by month_start), so its rows
    newer than the facts are exactly the months to sum again. Empty outside an
    incremental run. -#}
{% macro records_rebuilt_filter() -%}
    {%- if is_incremental() %}
    where built_at > (select coalesce(max(built_at), '-infinity'::timestamptz) from {{ this }})
    {%- endif %}
{%- endmacro %}

{#- The records as int_metric_records_unioned reads them (every source's
    int_*_metric_records model): each record counted in a metric fact, at the region
    it was placed in (its village, else its town), with what it adds to the fact's
    numerator (contribution) and, for a rate, to its denominator (null for a count):
    a rate lists every record of its denominator, those adding 0 to the numerator too
    (the unsatisfied callbacks behind a satisfaction rate), so that a record taken out is
    taken out of both: a source's facts are its records summed (macro
    metric_facts_summed). -#}
{% macro metric_records_final(relation) -%}
    select
        placed_code                                 as placed_code,
        month_start,
        metric_code,
        source_entity,
        cast(record_key as text)                    as record_key,
        cast(occurred_at as timestamp)              as occurred_at,
        cast(category as text)                      as category,
        cast(placement_method as text)              as placement_method,
        batch_id,
        source_ref,
        coalesce(cast(contribution as numeric), 0)  as contribution,
        cast(denominator as numeric)                as denominator,
        now()                                       as built_at
    from {{ relation }}
{%- endmacro %}
