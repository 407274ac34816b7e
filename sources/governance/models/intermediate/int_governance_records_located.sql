{#- Places every petition and dispute at a village and/or township by its region
    code: a village code at the village and its parent town, a town code at the
    town. The governance platform records no address, so anything else (no code,
    a county-level code, a code not in the region master) or an unknown status or
    dispute type keeps a quarantine_reason and is excluded from the metrics. -#}
with

petitions as (

    select * from {{ ref('stg_governance__petitions') }}

),

disputes as (

    select * from {{ ref('stg_governance__disputes') }}

),

regions as (

    select * from {{ ref('stg_regions__regions') }}

),

records as (

    select
        'petition'                              as record_type,
        petition_no                             as record_no,
        cast(received_at as date)               as occurred_on,
        received_month                          as occurred_month,
        region_code,
        status_key                              as kind_key,
        case
            when status_key is null then 'unknown status ' || coalesce(status, '(empty)')
        end                                     as code_problem,
        batch_id,
        source_ref
    from petitions

    union all

    select
        'dispute'                               as record_type,
        dispute_no                              as record_no,
        found_on                                as occurred_on,
        found_month                             as occurred_month,
        region_code,
        dispute_type_key                        as kind_key,
        case
            when dispute_type_key is null
                then 'unknown dispute type ' || coalesce(dispute_type, '(empty)')
        end                                     as code_problem,
        batch_id,
        source_ref
    from disputes

),

by_code as (

    select
        records.*,
        regions.region_level,
        {{ placed_village_code('regions') }} as village_code,
        {{ placed_township_code('regions') }} as township_code
    from records
    left join regions
        on records.region_code = regions.region_code

),

final as (

    select
        record_type,
        record_no,
        occurred_on,
        occurred_month,
        kind_key,
        region_code,
        village_code,
        township_code,
        case when township_code is not null then 'region_code' end as placement_method,
        batch_id,
        source_ref,
        case
            when code_problem is not null then code_problem
            when region_code is null then 'no region code'
            when region_level is null
                then 'region code ' || region_code || ' not in the region master'
            when township_code is null
                then 'region code ' || region_code || ' is at ' || region_level
                    || ' level, not a village or town'
        end                                                     as quarantine_reason
    from by_code

)

select * from final
