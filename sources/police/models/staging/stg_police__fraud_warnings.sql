with

versions as (

    select * from {{ ref('base_police__fraud_warnings') }}

),

final as (

    select
        warning_no,
        warned_at,
        warned_month,
        region_code,
        warning_type,
        victim_phone_hash,
        dissuasion_result,
        stopped_amount_yuan,
        source_updated_at,
        batch_id,
        extracted_at,
        source_ref
    from versions
    where version_rank = 1

)

select * from final
