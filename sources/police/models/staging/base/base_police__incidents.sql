{{ incremental_versions_config('incident_no') }}
with

source as (

    select * from {{ source('police', 'incidents') }}
    {{ incremental_versions_filter('jjdbh', source('police', 'incidents')) }}

),

categories as (

    select * from {{ ref('police_incident_categories') }}

),

renamed as (

    select
        jjdbh                                   as incident_no,
        cast(bjsj as timestamp)                 as reported_at,
        cast(pjsj as timestamp)                 as dispatched_at,
        cast(ddsj as timestamp)                 as arrived_at,
        jqlbdm                                  as category_code,
        jqxldm                                  as subcategory_code,
        xzqhdm                                  as region_code,
        fadz                                    as address,
        cast(jd as numeric(10, 6))              as longitude,
        cast(wd as numeric(10, 6))              as latitude,
        bjrdh_hash                              as caller_phone_hash,
        bjrsfzh_hash                            as caller_id_hash,
        hfmyd                                   as callback_satisfaction,
        cast(gxsj as timestamp)                 as source_updated_at,
        _batch_id                               as batch_id,
        _extracted_at                           as extracted_at,
        _source_ref                             as source_ref
    from source

),

mapped as (

    select
        renamed.*,
        categories.category_key
    from renamed
    left join categories
        on renamed.category_code = categories.category_code

),

versioned as (

    select
        *,
        row_number() over (
            partition by incident_no
            order by source_updated_at desc, extracted_at desc, batch_id desc
        ) as version_rank
    from mapped

),

final as (

    select
        incident_no,
        reported_at,
        {{ dbt.date_trunc('month', 'reported_at') }} as reported_month,
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
        source_ref,
        version_rank
    from versioned

)

select * from final
