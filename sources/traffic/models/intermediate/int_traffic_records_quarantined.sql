{#- The current rows of traffic accidents and violations that cannot be staged,
    with the reason. Only current rows are here: a bad version that a later one
    supersedes is superseded, not quarantined, and a bad row re-read by a later
    batch is quarantined once (from the latest batch). -#}
with

accidents as (

    select * from {{ ref('base_traffic__accidents') }}

),

violations as (

    select * from {{ ref('base_traffic__violations') }}

),

quarantined_accidents as (

    select
        'accidents'                                     as entity,
        accident_no                                     as record_key,
        batch_id,
        source_ref,
        region_code,
        parse_issue                                     as quarantine_reason
    from accidents
    where is_current
      and parse_issue is not null

),

quarantined_violations as (

    select
        'violations'                                    as entity,
        concat_ws(' | ', region_code, stat_month_text, violation_code)
                                                        as record_key,
        batch_id,
        source_ref,
        region_code,
        parse_issue                                     as quarantine_reason
    from violations
    where is_current
      and parse_issue is not null

),

final as (

    select * from quarantined_accidents
    union all
    select * from quarantined_violations

)

select * from final
