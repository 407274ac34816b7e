with

source as (

    select * from {{ source('schemes', 'grades') }}

),

final as (

    select
        scheme_code,
        scheme_version,
        grade,
        min_score,
        max_score,
        colour,
        sort_order
    from source

)

select * from final
