with

versions as (

    select * from {{ ref('base_governance__disputes') }}

),

final as (

    select
        dispute_no,
        found_on,
        found_month,
        region_code,
        dispute_type,
        dispute_type_key,
        outcome,
        outcome_key,
        resolved_on,
        source_updated_at,
        batch_id,
        extracted_at,
        source_ref
    from versions
    where version_rank = 1

)

select * from final
