{#- Survey scores that can be read and placed at a town, the latest version per town
    and quarter: the latest batch wins (a corrected re-export is a later batch), and
    within a batch the lower row. Older versions stay in raw and
    int_survey_batches_reconciled counts them as superseded. -#}
with

parsed as (

    select * from {{ ref('base_survey__scores') }}
    where parse_issue is null

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by quarter_start, region_code
            order by extracted_at desc, batch_id desc, source_file desc, source_row desc
        ) as version_rank
    from parsed

),

final as (

    select
        quarter_start,
        region_code                                     as township_code,
        township_name,
        sample_size,
        cast(security_score as numeric(5, 2))           as security_score,
        cast(satisfaction_score as numeric(5, 2))       as satisfaction_score,
        batch_id,
        extracted_at,
        source_file,
        source_row
    from deduplicated
    where version_rank = 1

)

select * from final
