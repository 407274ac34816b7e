{#- Where every raw police row went, per batch: scored, quarantined or superseded
    by a later version. raw_rows is counted from raw itself and recorded_rows is
    what the extractor wrote in raw._batches, so a row lost or multiplied between
    raw and the metrics shows as is_reconciled = false. -#}
with

batches as (

    select * from {{ source('police', 'batches') }}
    where source = 'police'

),

raw_rows as (

    select _batch_id as batch_id from {{ source('police', 'incidents') }}

),

versions as (

    select * from {{ ref('base_police__incidents') }}

),

located as (

    select * from {{ ref('int_police_incidents_located') }}

),

raw_counts as (

    select batch_id, count(*) as raw_rows
    from raw_rows
    group by batch_id

),

located_counts as (

    select
        batch_id,
        sum(case when quarantine_reason is null then 1 else 0 end)      as placed_rows,
        sum(case when quarantine_reason is not null then 1 else 0 end)  as quarantined_rows
    from located
    group by batch_id

),

superseded_counts as (

    select batch_id, count(*) as superseded_rows
    from versions
    where version_rank > 1
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
        batches.row_count                                   as recorded_rows,
        coalesce(raw_counts.raw_rows, 0)                    as raw_rows,
        coalesce(located_counts.placed_rows, 0)             as placed_rows,
        coalesce(located_counts.quarantined_rows, 0)        as quarantined_rows,
        coalesce(superseded_counts.superseded_rows, 0)      as superseded_rows
    from batch_ids
    left join batches
        on batch_ids.batch_id = batches.batch_id
    left join raw_counts
        on batch_ids.batch_id = raw_counts.batch_id
    left join located_counts
        on batch_ids.batch_id = located_counts.batch_id
    left join superseded_counts
        on batch_ids.batch_id = superseded_counts.batch_id

),

final as (

    select
        *,
        coalesce(recorded_rows = raw_rows, false)
            and raw_rows = placed_rows + quarantined_rows + superseded_rows
                                                            as is_reconciled
    from counted

)

select * from final
