with

versions as (

    select * from {{ ref('base_traffic__accidents') }}

),

current_clean as (

    select *
    from versions
    where is_current
      and parse_issue is null

),

final as (

    select
        accident_no,
        occurred_at,
        {{ dbt.date_trunc('month', 'occurred_at') }}    as occurred_month,
        location,
        region_code,
        village_code,
        township_code,
        deaths,
        injuries,
        vehicle_types,
        reporter_phone_hash,
        source_updated_at,
        batch_id,
        extracted_at,
        source_ref
    from current_clean

)

select * from final
