{#- Where every raw row of every survey batch went (macro batches_reconciled): staged
    (the latest clean version of its township and quarter), quarantined
    (int_survey_records_quarantined, with its reason) or superseded: an earlier
    version whose staged version is later, a repeated row of the same file (the lower
    row is staged) or a row of an older batch a re-export replaced. -#}
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

raw_rows as (

    select 'scores' as source_entity, _batch_id as batch_id, _source_file as source_file
    from raw_scores

),

superseded as (

    select scores.batch_id
    from scores
    inner join staged_scores
        on scores.quarter_start = staged_scores.quarter_start
        and scores.region_code = staged_scores.township_code
        and (staged_scores.extracted_at, staged_scores.batch_id, staged_scores.source_file, staged_scores.source_row)
            > (scores.extracted_at, scores.batch_id, scores.source_file, scores.source_row)

),

outcomes as (

    select 'scores' as source_entity, batch_id, 'staged' as outcome
    from staged_scores
    union all
    select source_entity, batch_id, 'quarantined' as outcome
    from quarantined
    union all
    select 'scores' as source_entity, batch_id, 'superseded' as outcome
    from superseded

),

{{ batches_reconciled() }}
