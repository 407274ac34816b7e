{#- The revision in force of every published month: its latest. A view, like the
    publication marts that read it, so it is current as soon as a publication is
    recorded. Grain: scheme_code × month_start. -#}
{{ config(materialized='view') }}

with

publications as (

    select * from {{ ref('stg_publish__publications') }}

),

final as (

    select
        scheme_code,
        month_start,
        max(revision) as revision
    from publications
    group by scheme_code, month_start

)

select * from final
