{#- The current rows of hotline work orders that cannot be staged, with the reason.
    Only current rows are here: a bad version that a later one supersedes is
    superseded, not quarantined. -#}
with

complaints as (

    select * from {{ ref('base_hotline__complaints') }}

),

final as (

    select
        'complaints'                                    as entity,
        order_no                                        as record_key,
        batch_id,
        source_ref,
        region_code,
        parse_issue                                     as quarantine_reason
    from complaints
    where is_current
      and parse_issue is not null

)

select * from final
