with

source as (

    select * from {{ source('police', 'fraud_warnings') }}

),

renamed as (

    select
        yjbh                                    as warning_no,
        cast(yjsj as timestamp)                 as warned_at,
        xzqhdm                                  as region_code,
        yjlx                                    as warning_type,
        shrdh_hash                              as victim_phone_hash,
        qzjg                                    as dissuasion_result,
        {{ amount_or_null('zfje') }}            as stopped_amount_yuan,
        cast(gxsj as timestamp)                 as source_updated_at,
        _batch_id                               as batch_id,
        _extracted_at                           as extracted_at,
        _source_ref                             as source_ref
    from source

),

versioned as (

    select
        *,
        row_number() over (
            partition by warning_no
            order by source_updated_at desc, extracted_at desc, batch_id desc
        ) as version_rank
    from renamed

),

final as (

    select
        warning_no,
        warned_at,
        {{ dbt.date_trunc('month', 'warned_at') }} as warned_month,
        region_code,
        warning_type,
        victim_phone_hash,
        dissuasion_result,
        stopped_amount_yuan,
        source_updated_at,
        batch_id,
        extracted_at,
        source_ref,
        version_rank
    from versioned

)

select * from final
