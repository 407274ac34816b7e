{#- Traceability: for a region and month, every item's metric value, normalised
    value, points lost and score, next to the same item last month. -#}
with

item_scores as (

    select * from {{ ref('int_index_items_scored') }}

),

with_previous as (

    select
        item_scores.*,
        previous.item_score as previous_item_score
    from item_scores
    left join item_scores as previous
        on item_scores.scheme_code = previous.scheme_code
        and item_scores.scheme_version = previous.scheme_version
        and item_scores.region_code = previous.region_code
        and item_scores.item_code = previous.item_code
        and previous.month_start = cast({{ dbt.dateadd('month', -1, 'item_scores.month_start') }} as date)

),

final as (

    select
        scheme_code,
        cast(scheme_version as integer)             as scheme_version,
        month_start,
        region_code,
        category_code,
        category_name,
        item_code,
        item_name,
        metric_code,
        normalisation,
        rule,
        cast(points as numeric(6, 2))               as points,
        cast(metric_value as numeric(14, 4))        as metric_value,
        cast(normalised_value as numeric(14, 4))    as normalised_value,
        cast(points_lost as numeric(6, 2))          as points_lost,
        cast(item_score as numeric(6, 2))           as item_score,
        cast(item_score - previous_item_score as numeric(6, 2)) as item_score_change
    from with_previous

)

select * from final
