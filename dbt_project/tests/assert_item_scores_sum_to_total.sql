-- Every published score is the sum of its items (the traceability mart explains it fully).
with

totals as (

    select * from {{ ref('region_index_monthly') }}

),

items as (

    select
        scheme_code,
        month_start,
        region_code,
        sum(item_score) as item_total
    from {{ ref('region_index_items') }}
    group by scheme_code, month_start, region_code

)

select totals.*
from totals
left join items
    on totals.scheme_code = items.scheme_code
    and totals.month_start = items.month_start
    and totals.region_code = items.region_code
where items.item_total is null
   or items.item_total <> totals.score
