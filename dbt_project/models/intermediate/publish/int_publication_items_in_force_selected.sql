{#- Each item of every published month as the revision in force (the latest)
    published it. A view, current as soon as a publication is recorded.
    Grain: scheme_code × month_start × region_code × item_code. -#}
{{ config(materialized='view') }}

with

latest as (

    select * from {{ ref('int_publications_latest_selected') }}

),

published_items as (

    select * from {{ ref('stg_publish__publication_items') }}

),

final as (

    select published_items.*
    from published_items
    inner join latest
        using (scheme_code, month_start, revision)

)

select * from final
