{#- Every count item's records add up to its metric value: for each scheme, version,
    month, unit and item whose metric is a count (every source lists its records),
    the records' contributions in marts.region_index_records add up to the metric value in
    marts.region_index_items (which rolls up the placed facts the same way). A row here
    is an item whose deduction the records would not explain. -#}
with

items as (

    select * from {{ ref('region_index_items') }}

),

records as (

    select * from {{ ref('region_index_records') }}

),

catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

counted as (

    select
        scheme_code, scheme_version, month_start, region_code, item_code,
        sum(contribution)                           as recorded
    from records
    group by scheme_code, scheme_version, month_start, region_code, item_code

),

final as (

    select
        items.scheme_code,
        items.scheme_version,
        items.month_start,
        items.region_code,
        items.item_code,
        items.metric_value,
        coalesce(counted.recorded, 0)               as recorded
    from items
    inner join catalogue
        on items.metric_code = catalogue.metric_code
    left join counted
        on items.scheme_code = counted.scheme_code
        and items.scheme_version = counted.scheme_version
        and items.month_start = counted.month_start
        and items.region_code = counted.region_code
        and items.item_code = counted.item_code
    where catalogue.kind = 'count'
      and coalesce(items.metric_value, 0) <> coalesce(counted.recorded, 0)

)

select * from final
