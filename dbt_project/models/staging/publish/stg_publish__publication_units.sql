with

source as (

    select * from {{ source('publish', 'publication_units') }}

),

final as (

    select
        scheme_code,
        month_start,
        revision,
        region_code,
        region_name,
        score,
        rank,
        grade,
        row                                     as published_row
    from source

)

select * from final
