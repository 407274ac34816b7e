with

versions as (

    select * from {{ ref('base_police__incidents') }}

),

final as (

    select
        incident_no,
        reported_at,
        reported_month,
        dispatched_at,
        arrived_at,
        category_code,
        category_key,
        subcategory_code,
        region_code,
        address,
        longitude,
        latitude,
        caller_phone_hash,
        caller_id_hash,
        callback_satisfaction,
        source_updated_at,
        batch_id,
        extracted_at,
        source_ref
    from versions
    where version_rank = 1

)

select * from final
