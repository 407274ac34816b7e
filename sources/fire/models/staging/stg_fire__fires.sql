{#- Fires that can be read and placed, the latest version of each fire number: the
    latest batch wins (a corrected re-export is a later batch), and within a batch
    the lower row (an export that repeats a row). Older versions are not lost: they
    stay in raw and int_fire_batches_reconciled counts them as duplicates. -#}
with

parsed as (

    select * from {{ ref('base_fire__fires') }}
    where parse_issue is null

),

mapped as (

    select
        parsed.*,
        case parsed.cause
            when '电气' then 'electrical'
            when '用火不慎' then 'careless_use_of_fire'
            when '吸烟' then 'smoking'
            when '生产作业' then 'industrial_work'
            when '玩火' then 'playing_with_fire'
            when '自燃' then 'spontaneous_combustion'
            when '雷击' then 'lightning'
            when '放火' then 'arson'
            when '其他' then 'other'
            when '原因不明' then 'undetermined'
            when '不明确' then 'undetermined'
        end                                             as cause_key
    from parsed

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by fire_no
            order by extracted_at desc, batch_id desc, source_file desc, source_row desc
        ) as version_rank
    from mapped

),

final as (

    select
        fire_no,
        fired_at,
        cast({{ dbt.date_trunc('month', 'fired_at') }} as date) as fire_month,
        address,
        region_code,
        village_code,
        township_code,
        cause,
        cause_key,
        deaths,
        injuries,
        direct_loss_yuan,
        batch_id,
        extracted_at,
        source_file,
        source_row
    from deduplicated
    where version_rank = 1

)

select * from final
