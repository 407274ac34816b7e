{#- Where every raw traffic row went, per batch: staged, quarantined or superseded.
    raw_rows is counted from raw itself and recorded_rows is what the extractor
    wrote in raw._batches, so a row lost or multiplied between raw and staging
    (a bad filter, a join that fans out) shows as is_reconciled = false. -#}
with

batches as (

    select * from {{ source('traffic', 'batches') }}
    where source = 'traffic'

),

raw_accidents as (

    select _batch_id as batch_id from {{ source('traffic', 'accidents') }}

),

raw_violations as (

    select _batch_id as batch_id from {{ source('traffic', 'violations') }}

),

base_accidents as (

    select * from {{ ref('base_traffic__accidents') }}

),

base_violations as (

    select * from {{ ref('base_traffic__violations') }}

),

staged_accidents as (

    select * from {{ ref('stg_traffic__accidents') }}

),

staged_violations as (

    select * from {{ ref('stg_traffic__violations') }}

),

quarantined as (

    select * from {{ ref('int_traffic_records_quarantined') }}

),

raw_counts as (

    select batch_id, count(*) as raw_rows
    from (
        select batch_id from raw_accidents
        union all
        select batch_id from raw_violations
    ) as raw_rows
    group by batch_id

),

staged_counts as (

    select batch_id, count(*) as staged_rows
    from (
        select batch_id from staged_accidents
        union all
        select batch_id from staged_violations
    ) as staged_rows
    group by batch_id

),

quarantined_counts as (

    select batch_id, count(*) as quarantined_rows
    from quarantined
    group by batch_id

),

superseded_counts as (

    select batch_id, count(*) as superseded_rows
    from (
        select batch_id from base_accidents where not is_current
        union all
        select batch_id from base_violations where not is_current
    ) as superseded_rows
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
        batches.entity,
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
        coalesce(recorded_rows = raw_rows, false)
            and raw_rows = staged_rows + quarantined_rows + superseded_rows
                                                        as is_reconciled
    from counted

)

select * from final
