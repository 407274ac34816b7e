with

versions as (

    select * from {{ ref('base_governance__petitions') }}

),

final as (

    select
        petition_no,
        received_at,
        received_month,
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
        source_ref
    from versions
    where version_rank = 1

)

select * from final
