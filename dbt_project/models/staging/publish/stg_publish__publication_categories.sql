with

source as (

    select * from {{ source('publish', 'publication_categories') }}

),

final as (

    select
        scheme_code,
        month_start,
        revision,
        region_code,
        category_code,
        row                                     as published_row
    from source

)

select * from final
