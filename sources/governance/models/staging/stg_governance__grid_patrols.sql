with

versions as (

    select * from {{ ref('base_governance__grid_patrols') }}

),

final as (

    select
        patrol_no,
        patrol_on,
        patrol_month,
        region_code,
        patrol_type_code,
        patrol_type_key,
        issues_found_text,
        issues_found,
        issues_rectified_text,
        issues_rectified,
        grid_worker_phone_hash,
        source_updated_at,
        batch_id,
        extracted_at,
        source_ref
    from versions
    where version_rank = 1

)

select * from final
