with

source as (

    select * from {{ source('schemes', 'tie_breaks') }}

),

final as (

    select
        scheme_code,
        scheme_version,
        position,
        category_code
    from source

)

select * from final
