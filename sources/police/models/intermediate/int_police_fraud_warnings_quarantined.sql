with

located as (

    select * from {{ ref('int_police_fraud_warnings_located') }}

),

final as (

    select
        warning_no,
        batch_id,
        source_ref,
        region_code,
        quarantine_reason
    from located
    where quarantine_reason is not null

)

select * from final
