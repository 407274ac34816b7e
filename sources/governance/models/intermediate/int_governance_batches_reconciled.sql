{#- Where every raw governance row went, per batch: staged (placed, then scored),
    quarantined or superseded by a later version (macro batches_reconciled). -#}
with

batches as (

    select * from {{ source('governance', 'batches') }}
    where source = 'governance'

),

raw_petitions as (

    select * from {{ source('governance', 'petitions') }}

),

raw_disputes as (

    select * from {{ source('governance', 'disputes') }}

),

raw_grid_patrols as (

    select * from {{ source('governance', 'grid_patrols') }}

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

    select 'petitions' as source_entity, _batch_id as batch_id, null as source_file
    from raw_petitions
    union all
    select 'disputes' as source_entity, _batch_id as batch_id, null as source_file
    from raw_disputes
    union all
    select 'grid_patrols' as source_entity, _batch_id as batch_id, null as source_file
    from raw_grid_patrols

),

located as (

    select
        case record_type when 'petition' then 'petitions' when 'dispute' then 'disputes' end
            as source_entity,
        batch_id,
        quarantine_reason
    from records_located
    union all
    select 'grid_patrols' as source_entity, batch_id, quarantine_reason
    from grid_patrols_located

),

outcomes as (

    select
        source_entity,
        batch_id,
        case when quarantine_reason is null then 'staged' else 'quarantined' end as outcome
    from located
    union all
    select 'petitions' as source_entity, batch_id, 'superseded' as outcome
    from petition_versions
    where version_rank > 1
    union all
    select 'disputes' as source_entity, batch_id, 'superseded' as outcome
    from dispute_versions
    where version_rank > 1
    union all
    select 'grid_patrols' as source_entity, batch_id, 'superseded' as outcome
    from grid_patrol_versions
    where version_rank > 1

),

{{ batches_reconciled() }}
