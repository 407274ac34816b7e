with

source as (

    select * from {{ source('governance', 'disputes') }}

),

renamed as (

    select
        jfbh                                    as dispute_no,
        cast(fxrq as date)                      as found_on,
        xzqhdm                                  as region_code,
        jflx                                    as dispute_type,
        tjjg                                    as outcome,
        case
            when jjrq ~ '^\d{4}-\d{2}-\d{2}$' then cast(jjrq as date)
        end                                     as resolved_on,
        cast(gxsj as timestamp)                 as source_updated_at,
        _batch_id                               as batch_id,
        _extracted_at                           as extracted_at,
        _source_ref                             as source_ref
    from source

),

mapped as (

    select
        *,
        case dispute_type
            when '婚姻家庭' then 'marriage_family'
            when '邻里' then 'neighbours'
            when '劳资' then 'labour'
            when '土地' then 'land'
            when '物业' then 'property_management'
            when '其他' then 'other'
        end                                     as dispute_type_key,
        case outcome
            when '调解成功' then 'mediated'
            when '调解不成' then 'mediation_failed'
            when '移交' then 'transferred'
        end                                     as outcome_key
    from renamed

),

versioned as (

    select
        *,
        row_number() over (
            partition by dispute_no
            order by source_updated_at desc, extracted_at desc, batch_id desc
        ) as version_rank
    from mapped

),

final as (

    select
        dispute_no,
        found_on,
        cast({{ dbt.date_trunc('month', 'found_on') }} as date) as found_month,
        region_code,
        dispute_type,
        dispute_type_key,
        outcome,
        outcome_key,
        resolved_on,
        source_updated_at,
        batch_id,
        extracted_at,
        source_ref,
        version_rank
    from versioned

)

select * from final
