{#- Every published score is explained item by item: the traceability mart's item
    scores plus the total's cap adjustment equal the score, and so do the category
    scores. Returns the units where either does not hold. -#}
with

scores as (

    select * from {{ ref('region_index_monthly') }}

),

item_sums as (

    select scheme_code, month_start, region_code, sum(item_score) as item_total
    from {{ ref('region_index_items') }}
    group by scheme_code, month_start, region_code

),

category_sums as (

    select scheme_code, month_start, region_code, sum(category_score) as category_total
    from {{ ref('region_index_categories') }}
    group by scheme_code, month_start, region_code

),

final as (

    select
        scores.scheme_code,
        scores.month_start,
        scores.region_code,
        scores.score,
        scores.cap_adjustment,
        item_sums.item_total,
        category_sums.category_total
    from scores
    left join item_sums
        on scores.scheme_code = item_sums.scheme_code
        and scores.month_start = item_sums.month_start
        and scores.region_code = item_sums.region_code
    left join category_sums
        on scores.scheme_code = category_sums.scheme_code
        and scores.month_start = category_sums.month_start
        and scores.region_code = category_sums.region_code
    where item_sums.item_total is null
       or item_sums.item_total + scores.cap_adjustment <> scores.score
       or category_sums.category_total + scores.cap_adjustment <> scores.score

)

select * from final
