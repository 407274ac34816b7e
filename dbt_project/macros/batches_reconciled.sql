{#- The counting shared by every int_<source>_batches_reconciled model: where every raw
    row of every batch went. The model defines three CTEs, then calls this macro for
    the rest of its body:
      batches   its source's rows of raw._batches (batch_id, entity, row_count): what
                the extractor recorded;
      raw_rows  one row per raw row: source_entity, batch_id, source_file (null for a
                source that is not a file);
      outcomes  one row per raw row accounted for: source_entity, batch_id and outcome,
                which is 'staged' (the version scored), 'quarantined' (with its reason
                in the source's quarantine) or 'superseded' (an earlier version of a
                record whose staged version is later: a repeated row, or a row of an
                older batch that a re-export replaced).
    Grain: source_entity × batch_id. raw_rows is counted from raw itself and
    recorded_rows is what the extractor wrote, so a row lost, multiplied, or landed in
    another entity's table shows as is_reconciled = false, and unaccounted_rows says
    how many rows a join or a filter lost (negative: counted twice). -#}
{% macro batches_reconciled() %}

raw_counts as (

    select
        source_entity,
        batch_id,
        min(source_file)    as source_file,
        count(*)            as raw_rows
    from raw_rows
    group by source_entity, batch_id

),

outcome_counts as (

    select
        source_entity,
        batch_id,
        count(*) filter (where outcome = 'staged')       as staged_rows,
        count(*) filter (where outcome = 'quarantined')  as quarantined_rows,
        count(*) filter (where outcome = 'superseded')   as superseded_rows
    from outcomes
    group by source_entity, batch_id

),

{#- A recorded batch takes its entity from raw._batches; rows whose batch was never
    recorded keep the entity of the table they sit in. -#}
batch_ids as (

    select batch_id, entity as source_entity from batches
    union
    select batch_id, source_entity from raw_counts
    where batch_id not in (select batch_id from batches)

),

counted as (

    select
        batch_ids.source_entity,
        batch_ids.batch_id,
        raw_counts.source_file,
        batches.row_count                                   as recorded_rows,
        coalesce(raw_counts.raw_rows, 0)                    as raw_rows,
        coalesce(outcome_counts.staged_rows, 0)             as staged_rows,
        coalesce(outcome_counts.quarantined_rows, 0)        as quarantined_rows,
        coalesce(outcome_counts.superseded_rows, 0)         as superseded_rows
    from batch_ids
    left join batches
        on batch_ids.batch_id = batches.batch_id
    left join raw_counts
        on batch_ids.batch_id = raw_counts.batch_id
        and batch_ids.source_entity = raw_counts.source_entity
    left join outcome_counts
        on batch_ids.batch_id = outcome_counts.batch_id
        and batch_ids.source_entity = outcome_counts.source_entity

),

final as (

    select
        *,
        raw_rows - staged_rows - quarantined_rows - superseded_rows
                                                            as unaccounted_rows,
        coalesce(recorded_rows = raw_rows, false)
            and raw_rows = staged_rows + quarantined_rows + superseded_rows
                                                            as is_reconciled
    from counted

)

select * from final

{% endmacro %}
