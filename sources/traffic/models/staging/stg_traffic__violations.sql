with

versions as (

    select * from {{ ref('base_traffic__violations') }}

),

current_clean as (

    select *
    from versions
    where is_current
      and parse_issue is null

),

final as (

    select
        region_code,
        township_code,
        stat_month,
        violation_code,
        violation_key,
        violation_name,
        violation_count,
        source_updated_at,
        batch_id,
        extracted_at,
        source_ref
    from current_clean

)

select * from final
