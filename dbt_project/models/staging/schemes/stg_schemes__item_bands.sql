with

source as (

    select * from {{ source('schemes', 'item_bands') }}

),

final as (

    select
        scheme_code,
        scheme_version,
        item_code,
        lower_bound,
        upper_bound,
        points
    from source

)

select * from final
