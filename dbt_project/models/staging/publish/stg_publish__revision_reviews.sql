with

source as (

    select * from {{ source('publish', 'revision_reviews') }}

),

final as (

    select
        scheme_code,
        month_start,
        checksum,
        published_revision,
        material                                as is_material,
        policy,
        changes,
        draft_id,
        reviewed_at,
        dag_run_id
    from source

)

select * from final
