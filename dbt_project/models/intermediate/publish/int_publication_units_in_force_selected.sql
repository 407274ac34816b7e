{#- Each unit of every published month as the revision in force (the latest)
    published it. A view, current as soon as a publication is recorded.
    Grain: scheme_code × month_start × region_code. -#}
{{ config(materialized='view') }}

with

latest as (

    select * from {{ ref('int_publications_latest_selected') }}

),

published_units as (

    select * from {{ ref('stg_publish__publication_units') }}

),

final as (

    select published_units.*
    from published_units
    inner join latest
        using (scheme_code, month_start, revision)

)

select * from final
