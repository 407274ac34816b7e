{#- Supervision inspections that can be read and placed at a town, the latest version
    per town and month (latest batch, then the lower row), as in stg_fire__fires. -#}
with

parsed as (

    select * from {{ ref('base_fire__inspections') }}
    where parse_issue is null

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by stat_month, region_code
            order by extracted_at desc, batch_id desc, source_file desc, source_row desc
        ) as version_rank
    from parsed

),

final as (

    select
        stat_month,
        region_code                                     as township_code,
        township_name,
        units_inspected,
        hazards_found,
        hazards_rectified,
        rectification_notices,
        penalties,
        fines_yuan,
        batch_id,
        extracted_at,
        source_file,
        source_row
    from deduplicated
    where version_rank = 1

)

select * from final
