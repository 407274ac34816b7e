with

versions as (

    select * from {{ ref('base_hotline__complaints') }}

),

current_clean as (

    select *
    from versions
    where is_current
      and parse_issue is null

),

final as (

    select
        order_no,
        accepted_at,
        {{ dbt.date_trunc('month', 'accepted_at') }}    as accepted_month,
        region_code,
        village_code,
        township_code,
        category,
        category_key,
        is_public_safety,
        appeal_type,
        status,
        finished_at,
        satisfaction,
        caller_phone_hash,
        source_updated_at,
        batch_id,
        extracted_at,
        source_ref
    from current_clean

)

select * from final
