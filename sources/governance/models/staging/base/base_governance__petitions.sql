with

source as (

    select * from {{ source('governance', 'petitions') }}

),

renamed as (

    select
        xfjbh                                   as petition_no,
        cast(djsj as timestamp)                 as received_at,
        xzqhdm                                  as region_code,
        xfrdh_hash                              as petitioner_phone_hash,
        xfrsfzh_hash                            as petitioner_id_hash,
        blzt                                    as status,
        case
            when bjrq ~ '^\d{4}-\d{2}-\d{2}$' then cast(bjrq as date)
        end                                     as completed_on,
        myd                                     as satisfaction,
        sfcf                                    as repeat_flag,
        sfjt                                    as group_flag,
        sfyj                                    as escalated_flag,
        cast(gxsj as timestamp)                 as source_updated_at,
        _batch_id                               as batch_id,
        _extracted_at                           as extracted_at,
        _source_ref                             as source_ref
    from source

),

mapped as (

    select
        *,
        case status
            when '受理' then 'accepted'
            when '办理中' then 'in_progress'
            when '办结' then 'completed'
        end                                     as status_key,
        case satisfaction
            when '满意' then 'satisfied'
            when '基本满意' then 'basically_satisfied'
            when '不满意' then 'dissatisfied'
            when '未评价' then 'not_rated'
        end                                     as satisfaction_key,
        case repeat_flag when '是' then true when '否' then false end       as is_repeat,
        case group_flag when '是' then true when '否' then false end        as is_group,
        case escalated_flag when '是' then true when '否' then false end    as is_escalated
    from renamed

),

versioned as (

    select
        *,
        row_number() over (
            partition by petition_no
            order by source_updated_at desc, extracted_at desc, batch_id desc
        ) as version_rank
    from mapped

),

final as (

    select
        petition_no,
        received_at,
        cast({{ dbt.date_trunc('month', 'received_at') }} as date) as received_month,
        region_code,
        petitioner_phone_hash,
        petitioner_id_hash,
        status,
        status_key,
        completed_on,
        satisfaction,
        satisfaction_key,
        is_repeat,
        is_group,
        is_escalated,
        source_updated_at,
        batch_id,
        extracted_at,
        source_ref,
        version_rank
    from versioned

)

select * from final
