with

located as (

    select * from {{ ref('int_police_incidents_located') }}

),

final as (

    select
        incident_no,
        batch_id,
        source_ref,
        region_code,
        quarantine_reason
    from located
    where quarantine_reason is not null

)

select * from final
