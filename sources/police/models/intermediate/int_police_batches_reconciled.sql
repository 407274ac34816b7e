{#- Where every raw police row went, per batch: staged (placed, then scored),
    quarantined or superseded by a later version. A police batch belongs to one
    entity (raw._batches.entity: incidents or fraud_warnings), and its rows are
    counted only from that entity's raw table and models (macro batches_reconciled). -#}
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

    select 'incidents' as source_entity, _batch_id as batch_id, null as source_file
    from incident_raw_rows
    union all
    select 'fraud_warnings' as source_entity, _batch_id as batch_id, null as source_file
    from fraud_raw_rows

),

outcomes as (

    select
        'incidents' as source_entity,
        batch_id,
        case when quarantine_reason is null then 'staged' else 'quarantined' end as outcome
    from incidents_located
    union all
    select
        'fraud_warnings' as source_entity,
        batch_id,
        case when quarantine_reason is null then 'staged' else 'quarantined' end as outcome
    from fraud_located
    union all
    select 'incidents' as source_entity, batch_id, 'superseded' as outcome
    from incident_versions
    where version_rank > 1
    union all
    select 'fraud_warnings' as source_entity, batch_id, 'superseded' as outcome
    from fraud_versions
    where version_rank > 1

),

{{ batches_reconciled() }}
