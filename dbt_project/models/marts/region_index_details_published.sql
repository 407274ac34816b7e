{#- The items and categories behind each published score (issue 17), as the revision
    in force published them: for every unit of a published month, one row per item
    (its category, metric value, normalised value, points and score) beside its
    category's score. The BI role's view of the traceability marts
    (region_index_items and region_index_categories hold what the data give now,
    published or not). A view over the publication snapshots.
    Grain: scheme_code × month_start × region_code × item_code. -#}
{{ config(materialized='view') }}

with

latest as (

    select * from {{ ref('int_publications_latest_selected') }}

),

items as (

    select * from {{ ref('int_publication_items_in_force_selected') }}

),

published_categories as (

    select * from {{ ref('stg_publish__publication_categories') }}

),

categories as (

    select published_categories.*
    from published_categories
    inner join latest
        using (scheme_code, month_start, revision)

),

final as (

    select
        items.scheme_code,
        items.month_start,
        items.region_code,
        items.item_code,
        items.item_name,
        items.published_row ->> 'category_code'                          as category_code,
        items.published_row ->> 'category_name'                          as category_name,
        cast(categories.published_row ->> 'category_score' as numeric(6, 2))
                                                                        as category_score,
        items.published_row ->> 'indicator_name'                         as indicator_name,
        items.published_row ->> 'metric_name'                            as metric_name,
        items.published_row ->> 'metric_unit'                            as metric_unit,
        cast(items.metric_value as numeric(18, 4))                      as metric_value,
        cast(items.published_row ->> 'normalised_value' as numeric(18, 4))
                                                                        as normalised_value,
        cast(items.published_row ->> 'points' as numeric(8, 2))          as points,
        cast(items.item_score as numeric(8, 2))                         as item_score,
        cast(items.revision as integer)                                 as published_revision
    from items
    left join categories
        on items.scheme_code = categories.scheme_code
        and items.month_start = categories.month_start
        and items.region_code = categories.region_code
        and items.published_row ->> 'category_code' = categories.category_code

)

select * from final
