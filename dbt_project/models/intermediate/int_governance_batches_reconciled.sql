{#- Where every raw governance row went, per batch: placed, quarantined or
    superseded by a later version. raw_rows is counted from raw itself and
    recorded_rows is what the extractor wrote in raw._batches, so a row lost or
    multiplied between raw and the located records shows as is_reconciled = false. -#}
with

batches as (

    select * from {{ source('governance', 'batches') }}
    where source = 'governance'

),

raw_petitions as (

    select _batch_id as batch_id from {{ source('governance', 'petitions') }}

),

raw_disputes as (

    select _batch_id as batch_id from {{ source('governance', 'disputes') }}

),

raw_grid_patrols as (

    select _batch_id as batch_id from {{ source('governance', 'grid_patrols') }}

),

petition_versions as (

    select * from {{ ref('base_governance__petitions') }}

),

dispute_versions as (

    select * from {{ ref('base_governance__disputes') }}

),

grid_patrol_versions as (

    select * from {{ ref('base_governance__grid_patrols') }}

),

records_located as (

    select * from {{ ref('int_governance_records_located') }}

),

grid_patrols_located as (

    select * from {{ ref('int_governance_grid_patrols_located') }}

),

raw_rows as (

    select batch_id from raw_petitions
    union all
    select batch_id from raw_disputes
    union all
    select batch_id from raw_grid_patrols

),

raw_counts as (

    select batch_id, count(*) as raw_rows
    from raw_rows
    group by batch_id

),

located as (

    select batch_id, quarantine_reason from records_located
    union all
    select batch_id, quarantine_reason from grid_patrols_located

),

located_counts as (

    select
        batch_id,
        sum(case when quarantine_reason is null then 1 else 0 end)      as placed_rows,
        sum(case when quarantine_reason is not null then 1 else 0 end)  as quarantined_rows
    from located
    group by batch_id

),

superseded as (

    select batch_id from petition_versions where version_rank > 1
    union all
    select batch_id from dispute_versions where version_rank > 1
    union all
    select batch_id from grid_patrol_versions where version_rank > 1

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
