with

source as (

    select * from {{ source('schemes', 'stars') }}

),

final as (

    select
        scheme_code,
        scheme_version,
        stars,
        min_score,
        top_share
    from source

)

select * from final
