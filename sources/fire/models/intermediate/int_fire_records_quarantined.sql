{#- Fire department rows that cannot be staged, with the reason: a field that cannot
    be read (fire time, statistics month, a count) or a region that cannot be placed
    at a village or town of the master. One row per raw row: nothing is collapsed
    here, so an exported-twice bad row is quarantined twice.

    A bad row is not quarantined when a later clean version of the same record is
    staged (a corrected re-export fixed it): it is then a superseded version, counted
    as a duplicate by int_fire_batches_reconciled. A bad row later than the staged
    version stays here, so a correction that broke a record is visible. -#}
with

fires as (

    select * from {{ ref('base_fire__fires') }}

),

staged_fires as (

    select * from {{ ref('stg_fire__fires') }}

),

inspections as (

    select * from {{ ref('base_fire__inspections') }}

),

staged_inspections as (

    select * from {{ ref('stg_fire__inspections') }}

),

fires_quarantined as (

    select
        'fires'                                         as source_entity,
        fires.batch_id,
        fires.source_file,
        fires.source_row,
        fires.fire_no                                   as record_key,
        fires.region_code,
        fires.parse_issue                               as quarantine_reason
    from fires
    left join staged_fires
        on fires.fire_no = staged_fires.fire_no
        and (staged_fires.extracted_at, staged_fires.batch_id, staged_fires.source_file, staged_fires.source_row)
            > (fires.extracted_at, fires.batch_id, fires.source_file, fires.source_row)
    where fires.parse_issue is not null
        and staged_fires.fire_no is null

),

inspections_quarantined as (

    select
        'inspections'                                   as source_entity,
        inspections.batch_id,
        inspections.source_file,
        inspections.source_row,
        concat_ws(' ', inspections.stat_month_text, inspections.region_code)
                                                        as record_key,
        inspections.region_code,
        inspections.parse_issue                         as quarantine_reason
    from inspections
    left join staged_inspections
        on inspections.stat_month = staged_inspections.stat_month
        and inspections.region_code = staged_inspections.township_code
        and (
            staged_inspections.extracted_at,
            staged_inspections.batch_id,
            staged_inspections.source_file,
            staged_inspections.source_row
        ) > (inspections.extracted_at, inspections.batch_id, inspections.source_file, inspections.source_row)
    where inspections.parse_issue is not null
        and staged_inspections.township_code is null

),

final as (

    select * from fires_quarantined

    union all

    select * from inspections_quarantined

)

select * from final
