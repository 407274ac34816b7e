with

source as (

    select * from {{ source('publish', 'appeals') }}

),

final as (

    select
        appeal_id,
        scheme_code,
        month_start,
        region_code,
        region_name,
        reason,
        filed_by,
        filed_at,
        status,
        move_to,
        move_to_name,
        decided_by,
        decided_at,
        decision_note,
        applied_in_revision
    from source

)

select * from final
