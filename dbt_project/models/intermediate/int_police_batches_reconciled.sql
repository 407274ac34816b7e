{#- Where every raw police row went, per batch: scored, quarantined or superseded
    by a later version. A police batch belongs to one entity (raw._batches.entity:
    incidents or fraud_warnings), and its rows are counted only from that entity's
    raw table and models. raw_rows is counted from raw itself and recorded_rows is
    what the extractor wrote in raw._batches, so a row lost, multiplied or landed in
    the wrong table shows as is_reconciled = false. -#}
with

batches as (

    select * from {{ source('police', 'batches') }}
    where source = 'police'

),

incident_raw_rows as (

    select * from {{ source('police', 'incidents') }}

),

fraud_raw_rows as (

    select * from {{ source('police', 'fraud_warnings') }}

),

incident_versions as (

    select * from {{ ref('base_police__incidents') }}

),

fraud_versions as (

    select * from {{ ref('base_police__fraud_warnings') }}

),

incidents_located as (

    select * from {{ ref('int_police_incidents_located') }}

),

fraud_located as (

    select * from {{ ref('int_police_fraud_warnings_located') }}

),

raw_rows as (

    select 'incidents' as entity, _batch_id as batch_id from incident_raw_rows
    union all
    select 'fraud_warnings' as entity, _batch_id as batch_id from fraud_raw_rows

),

versions as (

    select 'incidents' as entity, batch_id, version_rank from incident_versions
    union all
    select 'fraud_warnings' as entity, batch_id, version_rank from fraud_versions

),

located as (

    select 'incidents' as entity, batch_id, quarantine_reason from incidents_located
    union all
    select 'fraud_warnings' as entity, batch_id, quarantine_reason from fraud_located

),

raw_counts as (

    select batch_id, entity, count(*) as raw_rows
    from raw_rows
    group by batch_id, entity

),

located_counts as (

    select
        batch_id,
        entity,
        sum(case when quarantine_reason is null then 1 else 0 end)      as placed_rows,
        sum(case when quarantine_reason is not null then 1 else 0 end)  as quarantined_rows
    from located
    group by batch_id, entity

),

superseded_counts as (

    select batch_id, entity, count(*) as superseded_rows
    from versions
    where version_rank > 1
    group by batch_id, entity

),

{#- A recorded batch takes its entity from raw._batches; rows whose batch was never
    recorded keep the entity of the table they sit in. -#}
batch_ids as (

    select batch_id, entity from batches
    union
    select batch_id, entity from raw_counts
    where batch_id not in (select batch_id from batches)

),

counted as (

    select
        batch_ids.batch_id,
        batch_ids.entity,
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
        and batch_ids.entity = raw_counts.entity
    left join located_counts
        on batch_ids.batch_id = located_counts.batch_id
        and batch_ids.entity = located_counts.entity
    left join superseded_counts
        on batch_ids.batch_id = superseded_counts.batch_id
        and batch_ids.entity = superseded_counts.entity

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
