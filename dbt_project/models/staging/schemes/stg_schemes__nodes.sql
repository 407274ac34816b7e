with

source as (

    select * from {{ source('schemes', 'nodes') }}

),

final as (

    select
        scheme_code,
        scheme_version,
        node_code,
        node_level,
        parent_code,
        node_name,
        points,
        sort_order
    from source

)

select * from final
