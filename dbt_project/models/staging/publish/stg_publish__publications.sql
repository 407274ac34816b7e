with

source as (

    select * from {{ source('publish', 'publications') }}

),

final as (

    select
        scheme_code,
        scheme_version,
        month_start,
        revision,
        data_cutoff,
        recipients,
        checksum,
        subject,
        sent_at,
        message_id,
        files,
        changes,
        signed_by,
        signed_at,
        cutoff_at,
        data_loaded_to,
        recorded_at
    from source

)

select * from final
