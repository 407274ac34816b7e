{#- Where every raw row of every survey batch went. Each raw row is exactly one of:
      staged       the staged (latest clean) version of its township and quarter;
      quarantined  in int_survey_records_quarantined, with its reason;
      superseded   an earlier version of a township and quarter whose staged version
                   is later: a repeated row of the same file (the lower row is
                   staged), or a row of an older batch a re-export replaced.
    raw_rows is counted from raw itself and recorded_rows is what the extractor wrote
    in raw._batches; is_reconciled requires recorded_rows = raw_rows and raw_rows =
    staged + quarantined + superseded (assert_survey_batches_reconcile). Each count
    comes from a different model, so a row lost or double counted shows up here. -#}
with

batches as (

    select * from {{ source('survey', 'batches') }}
    where source = 'survey'

),

raw_scores as (

    select * from {{ source('survey', 'scores') }}

),

scores as (

    select * from {{ ref('base_survey__scores') }}

),

staged_scores as (

    select * from {{ ref('stg_survey__scores') }}

),

quarantined as (

    select * from {{ ref('int_survey_records_quarantined') }}

),

raw_counts as (

    select
        _batch_id               as batch_id,
        min(_source_file)       as source_file,
        count(*)                as raw_rows
    from raw_scores
    group by _batch_id

),

staged_counts as (

    select batch_id, count(*) as staged_rows
    from staged_scores
    group by batch_id

),

quarantined_counts as (

    select batch_id, count(*) as quarantined_rows
    from quarantined
    group by batch_id

),

superseded as (

    select scores.batch_id
    from scores
    inner join staged_scores
        on scores.quarter_start = staged_scores.quarter_start
        and scores.region_code = staged_scores.township_code
        and (staged_scores.extracted_at, staged_scores.batch_id, staged_scores.source_row)
            > (scores.extracted_at, scores.batch_id, scores.source_row)

),

superseded_counts as (

    select batch_id, count(*) as superseded_rows
    from superseded
    group by batch_id

),

batch_ids as (

    select batch_id from batches
    union
    select batch_id from raw_counts

),

counted as (

    select
        batch_ids.batch_id,
        coalesce(batches.entity, 'scores')              as source_entity,
        raw_counts.source_file,
        batches.row_count                               as recorded_rows,
        coalesce(raw_counts.raw_rows, 0)                as raw_rows,
        coalesce(staged_counts.staged_rows, 0)          as staged_rows,
        coalesce(quarantined_counts.quarantined_rows, 0)
                                                        as quarantined_rows,
        coalesce(superseded_counts.superseded_rows, 0)  as superseded_rows
    from batch_ids
    left join batches
        on batch_ids.batch_id = batches.batch_id
    left join raw_counts
        on batch_ids.batch_id = raw_counts.batch_id
    left join staged_counts
        on batch_ids.batch_id = staged_counts.batch_id
    left join quarantined_counts
        on batch_ids.batch_id = quarantined_counts.batch_id
    left join superseded_counts
        on batch_ids.batch_id = superseded_counts.batch_id

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
