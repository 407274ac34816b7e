{#- The items behind each revision candidate (issue 17): every item of a published
    month's latest revision whose score the marts now give differently, with its
    score and metric value as published and now. A view over the publication's item
    snapshot and marts.region_index_items. Revisions recorded before item snapshots
    were kept have no rows here.
    Grain: scheme_code × month_start × region_code × item_code. -#}
{{ config(materialized='view') }}

with

published as (

    select * from {{ ref('int_publication_items_in_force_selected') }}

),

current_items as (

    select * from {{ ref('region_index_items') }}

),

compared as (

    select
        published.scheme_code,
        published.month_start,
        published.region_code,
        published.item_code,
        coalesce(current_items.item_name, published.item_name)    as item_name,
        published.revision                                        as published_revision,
        published.item_score                                      as published_item_score,
        current_items.item_score                                  as current_item_score,
        published.metric_value                                    as published_metric_value,
        current_items.metric_value                                as current_metric_value
    from published
    left join current_items
        on published.scheme_code = current_items.scheme_code
        and published.month_start = current_items.month_start
        and published.region_code = current_items.region_code
        and published.item_code = current_items.item_code

),

final as (

    select
        scheme_code,
        month_start,
        region_code,
        item_code,
        item_name,
        published_revision,
        cast(published_item_score as numeric(8, 2))               as published_item_score,
        cast(current_item_score as numeric(8, 2))                 as current_item_score,
        cast(current_item_score - published_item_score as numeric(8, 2))
                                                                  as item_score_change,
        cast(published_metric_value as numeric(18, 4))            as published_metric_value,
        cast(current_metric_value as numeric(18, 4))              as current_metric_value
    from compared
    where current_item_score is distinct from published_item_score

)

select * from final
