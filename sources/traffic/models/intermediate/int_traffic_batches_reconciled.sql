{#- Where every raw traffic row went, per batch: staged, quarantined or superseded
    by a later version (macro batches_reconciled). -#}
with

batches as (

    select * from {{ source('traffic', 'batches') }}
    where source = 'traffic'

),

raw_accidents as (

    select * from {{ source('traffic', 'accidents') }}

),

raw_violations as (

    select * from {{ source('traffic', 'violations') }}

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

raw_rows as (

    select 'accidents' as source_entity, _batch_id as batch_id, null as source_file
    from raw_accidents
    union all
    select 'violations' as source_entity, _batch_id as batch_id, null as source_file
    from raw_violations

),

outcomes as (

    select 'accidents' as source_entity, batch_id, 'staged' as outcome
    from staged_accidents
    union all
    select 'violations' as source_entity, batch_id, 'staged' as outcome
    from staged_violations
    union all
    select entity as source_entity, batch_id, 'quarantined' as outcome
    from quarantined
    union all
    select 'accidents' as source_entity, batch_id, 'superseded' as outcome
    from base_accidents
    where not is_current
    union all
    select 'violations' as source_entity, batch_id, 'superseded' as outcome
    from base_violations
    where not is_current

),

{{ batches_reconciled() }}
