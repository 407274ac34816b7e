{#- Where every raw row of every fire batch went (macro batches_reconciled): staged
    (the latest clean version of its record), quarantined (int_fire_records_quarantined,
    with its reason) or superseded: an earlier version of a record whose staged
    version is later, a repeated row of the same file (the lower row is staged) or a
    row of an older batch that a re-export replaced (clean or not). -#}
with

batches as (

    select * from {{ source('fire', 'batches') }}
    where source = 'fire'

),

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

raw_rows as (

    select 'fires' as source_entity, _batch_id as batch_id, _source_file as source_file
    from raw_fires
    union all
    select 'inspections' as source_entity, _batch_id as batch_id, _source_file as source_file
    from raw_inspections

),

fire_duplicates as (

    select fires.batch_id
    from fires
    inner join staged_fires
        on fires.fire_no = staged_fires.fire_no
        and (staged_fires.extracted_at, staged_fires.batch_id, staged_fires.source_file, staged_fires.source_row)
            > (fires.extracted_at, fires.batch_id, fires.source_file, fires.source_row)

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
            staged_inspections.source_file,
            staged_inspections.source_row
        ) > (inspections.extracted_at, inspections.batch_id, inspections.source_file, inspections.source_row)

),

outcomes as (

    select 'fires' as source_entity, batch_id, 'staged' as outcome
    from staged_fires
    union all
    select 'inspections' as source_entity, batch_id, 'staged' as outcome
    from staged_inspections
    union all
    select source_entity, batch_id, 'quarantined' as outcome
    from quarantined
    union all
    select 'fires' as source_entity, batch_id, 'superseded' as outcome
    from fire_duplicates
    union all
    select 'inspections' as source_entity, batch_id, 'superseded' as outcome
    from inspection_duplicates

),

{{ batches_reconciled() }}
