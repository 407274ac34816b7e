{#- The records accepted appeals take out of a unit's month (publish.appeals, issue
    14): every row of int_metric_records_unioned that an accepted appeal contests,
    placed in the appealing unit (or beneath it) in the appeal's month, with the
    decision: move_to, the unit it counts in instead, or null (it counts nowhere here).
    A record two accepted appeals contest (under two schemes) is taken out once, by the
    first decision. int_metric_facts_unioned subtracts these rows where they were
    placed and adds the moved ones where the decision says; marts.region_index_records
    shows them there. decided_at is what the rollup's incremental filter compares: a
    decision rebuilds its month. A view: a handful of rows, read twice.
    Grain: metric_code × source_entity × record_key × month_start. -#}
{{ config(materialized='view') }}
with

records as (

    select * from {{ ref('int_metric_records_unioned') }}

),

appeals as (

    select * from {{ ref('stg_publish__appeals') }}
    where status = 'accepted'

),

appeal_records as (

    select * from {{ ref('stg_publish__appeal_records') }}

),

ancestors as (

    select * from {{ ref('int_region_ancestors_walked') }}

),

contested as (

    select
        appeal_records.source_entity,
        appeal_records.record_key,
        appeals.appeal_id,
        appeals.month_start,
        appeals.region_code                         as appealing_code,
        appeals.move_to,
        appeals.decided_at
    from appeal_records
    inner join appeals
        on appeal_records.appeal_id = appeals.appeal_id

),

matched as (

    select
        records.*,
        contested.appeal_id,
        contested.move_to,
        contested.decided_at
    from records
    inner join contested
        on records.source_entity = contested.source_entity
        and records.record_key = contested.record_key
        and records.month_start = contested.month_start
    inner join ancestors
        on records.placed_code = ancestors.region_code
        and contested.appealing_code = ancestors.ancestor_code

),

final as (

    select distinct on (metric_code, source_entity, record_key, month_start) *
    from matched
    order by metric_code, source_entity, record_key, month_start, decided_at, appeal_id

)

select * from final
