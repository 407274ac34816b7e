with

source as (

    select * from {{ source('publish', 'drafts') }}

),

final as (

    select
        draft_id,
        scheme_code,
        scheme_version,
        month_start,
        revision,
        checksum,
        subject,
        status,
        signoff_via,
        drafted_at,
        decided_by,
        decided_at,
        reason,
        dag_run_id,
        cutoff_at,
        data_loaded_to
    from source

)

select * from final
