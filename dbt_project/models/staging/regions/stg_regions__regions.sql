with

source as (

    select * from {{ source('regions', 'master') }}

),

latest_batch as (

    select _batch_id
    from source
    order by _extracted_at desc
    limit 1

),

renamed as (

    select
        source.code                                         as region_code,
        source.name                                         as region_name,
        source.level                                        as region_level,
        nullif(source.parent_code, '')                      as parent_code,
        coalesce(cast(nullif(source.resident_population, '') as integer), 0)
                                                            as resident_population,
        coalesce(cast(nullif(source.floating_population, '') as integer), 0)
                                                            as floating_population,
        cast(nullif(source.valid_from, '') as date)         as valid_from,
        cast(nullif(source.valid_to, '') as date)           as valid_to,
        cast(nullif(source.longitude, '') as numeric(10, 6)) as longitude,
        cast(nullif(source.latitude, '') as numeric(10, 6))  as latitude,
        source._batch_id                                    as batch_id
    from source
    inner join latest_batch
        on source._batch_id = latest_batch._batch_id

),

final as (

    select * from renamed

)

select * from final
