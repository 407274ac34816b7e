with

source as (

    select * from {{ source('publish', 'publication_items') }}

),

final as (

    select
        scheme_code,
        month_start,
        revision,
        region_code,
        item_code,
        item_name,
        item_score,
        metric_value,
        row                                     as published_row
    from source

)

select * from final
