{#- Where every raw hotline row went, per batch: staged, quarantined or superseded
    by a later version or copy (macro batches_reconciled). -#}
with

batches as (

    select * from {{ source('hotline', 'batches') }}
    where source = 'hotline'

),

raw_complaints as (

    select * from {{ source('hotline', 'complaints') }}

),

base_complaints as (

    select * from {{ ref('base_hotline__complaints') }}

),

staged_complaints as (

    select * from {{ ref('stg_hotline__complaints') }}

),

quarantined as (

    select * from {{ ref('int_hotline_records_quarantined') }}

),

raw_rows as (

    select 'complaints' as source_entity, _batch_id as batch_id, null as source_file
    from raw_complaints

),

outcomes as (

    select 'complaints' as source_entity, batch_id, 'staged' as outcome
    from staged_complaints
    union all
    select entity as source_entity, batch_id, 'quarantined' as outcome
    from quarantined
    union all
    select 'complaints' as source_entity, batch_id, 'superseded' as outcome
    from base_complaints
    where not is_current

),

{{ batches_reconciled() }}
