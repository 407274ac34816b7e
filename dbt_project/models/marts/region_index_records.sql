{#- The source records behind every item of the index: for each scheme, version,
    month, ranked unit and item, every record counted in the item's metric (issue 14),
    with its source, key, raw version (batch and source row), date, category, how it
    was placed and the village (or town) it was placed in, and what it adds to the
    metric's numerator (1 for a count or a rate's numerator) and to a rate's
    denominator (a rate lists the records of its denominator, those adding 0 to the
    numerator too). A unit's records are
    those placed in it or beneath it; for a count item they add up to the item's
    metric value (test assert_index_records_add_up). Personal data never reaches the
    records (hashed or dropped at extraction). A record an accepted appeal took out of
    a unit is not there; one it moved is at the unit it moved to, its placement
    'appeal' and appeal_id the decision's.
    Grain: scheme × version × month × unit × item × source entity × record key. -#}
with

items as (

    select * from {{ ref('region_index_items') }}

),

records as (

    select * from {{ ref('int_metric_records_unioned') }}

),

appealed as (

    select * from {{ ref('int_metric_records_appealed') }}

),

ancestors as (

    select * from {{ ref('int_region_ancestors_walked') }}

),

regions as (

    select * from {{ ref('stg_regions__regions') }}

),

kept as (

    select
        records.*,
        null::bigint                                as appeal_id
    from records
    left join appealed
        on records.source_entity = appealed.source_entity
        and records.record_key = appealed.record_key
        and records.month_start = appealed.month_start
        and records.metric_code = appealed.metric_code
    where appealed.record_key is null

),

moved as (

    select
        move_to                                     as placed_code,
        month_start,
        metric_code,
        source_entity,
        record_key,
        occurred_at,
        category,
        'appeal'                                    as placement_method,
        batch_id,
        source_ref,
        contribution,
        denominator,
        built_at,
        appeal_id
    from appealed
    where move_to is not null

),

counted as (

    select * from kept
    union all
    select * from moved

),

final as (

    select
        items.scheme_code,
        items.scheme_version,
        items.month_start,
        items.region_code,
        items.item_code,
        items.item_name,
        items.metric_code,
        records.source_entity,
        records.record_key,
        records.occurred_at,
        records.category,
        records.placement_method,
        records.placed_code,
        regions.region_name                         as placed_name,
        records.batch_id,
        records.source_ref,
        records.contribution,
        records.denominator,
        records.appeal_id
    from items
    inner join ancestors
        on items.region_code = ancestors.ancestor_code
    inner join counted as records
        on ancestors.region_code = records.placed_code
        and items.month_start = records.month_start
        and items.metric_code = records.metric_code
    left join regions
        on records.placed_code = regions.region_code

)

select * from final
