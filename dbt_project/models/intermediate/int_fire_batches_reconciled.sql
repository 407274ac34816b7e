{#- Where every raw row of every fire batch went. Each raw row is exactly one of:
      staged       the staged (latest clean) version of its record;
      quarantined  in int_fire_records_quarantined, with its reason;
      duplicate    an earlier version of a record whose staged version is later:
                   a repeated row of the same file (the lower row is staged), or a
                   row of an older batch that a re-export replaced (clean or not).
    So raw_rows = staged_rows + quarantined_rows + duplicate_rows for every batch;
    unaccounted_rows is the difference and assert_fire_batches_reconcile fails
    unless it is zero. Each count comes from a different model, so a row lost or
    double counted in a join or a filter shows up here. -#}
with

raw_fires as (

    select * from {{ source('fire', 'fires') }}

),

raw_inspections as (

    select * from {{ source('fire', 'inspections') }}

),

fires as (

    select * from {{ ref('base_fire__fires') }}

),

inspections as (

    select * from {{ ref('base_fire__inspections') }}

),

staged_fires as (

    select * from {{ ref('stg_fire__fires') }}

),

staged_inspections as (

    select * from {{ ref('stg_fire__inspections') }}

),

quarantined as (

    select * from {{ ref('int_fire_records_quarantined') }}

),

raw_counts as (

    select
        'fires'                 as source_entity,
        _batch_id               as batch_id,
        min(_source_file)       as source_file,
        count(*)                as raw_rows
    from raw_fires
    group by _batch_id

    union all

    select
        'inspections'           as source_entity,
        _batch_id               as batch_id,
        min(_source_file)       as source_file,
        count(*)                as raw_rows
    from raw_inspections
    group by _batch_id

),

staged_counts as (

    select batch_id, count(*) as staged_rows
    from staged_fires
    group by batch_id

    union all

    select batch_id, count(*) as staged_rows
    from staged_inspections
    group by batch_id

),

quarantined_counts as (

    select batch_id, count(*) as quarantined_rows
    from quarantined
    group by batch_id

),

fire_duplicates as (

    select fires.batch_id
    from fires
    inner join staged_fires
        on fires.fire_no = staged_fires.fire_no
        and (staged_fires.extracted_at, staged_fires.batch_id, staged_fires.source_row)
            > (fires.extracted_at, fires.batch_id, fires.source_row)

),

inspection_duplicates as (

    select inspections.batch_id
    from inspections
    inner join staged_inspections
        on inspections.stat_month = staged_inspections.stat_month
        and inspections.region_code = staged_inspections.township_code
        and (
            staged_inspections.extracted_at,
            staged_inspections.batch_id,
            staged_inspections.source_row
        ) > (inspections.extracted_at, inspections.batch_id, inspections.source_row)

),

duplicate_counts as (

    select batch_id, count(*) as duplicate_rows
    from (
        select batch_id from fire_duplicates
        union all
        select batch_id from inspection_duplicates
    ) as duplicates
    group by batch_id

),

final as (

    select
        raw_counts.source_entity,
        raw_counts.batch_id,
        raw_counts.source_file,
        raw_counts.raw_rows,
        coalesce(staged_counts.staged_rows, 0)              as staged_rows,
        coalesce(quarantined_counts.quarantined_rows, 0)    as quarantined_rows,
        coalesce(duplicate_counts.duplicate_rows, 0)        as duplicate_rows,
        raw_counts.raw_rows
            - coalesce(staged_counts.staged_rows, 0)
            - coalesce(quarantined_counts.quarantined_rows, 0)
            - coalesce(duplicate_counts.duplicate_rows, 0)  as unaccounted_rows
    from raw_counts
    left join staged_counts
        on raw_counts.batch_id = staged_counts.batch_id
    left join quarantined_counts
        on raw_counts.batch_id = quarantined_counts.batch_id
    left join duplicate_counts
        on raw_counts.batch_id = duplicate_counts.batch_id

)

select * from final
