with

source as (

    select * from {{ source('publish', 'appeal_records') }}

),

final as (

    select
        appeal_id,
        source_entity,
        record_key,
        placed_code
    from source

)

select * from final
