{#- Places every incident at a township: a village code is placed at its parent
    town, a town code at itself. Anything else keeps a quarantine_reason and is
    excluded from metrics by int_police_incidents_quarantined's complement. -#}
with

incidents as (

    select * from {{ ref('stg_police__incidents') }}

),

regions as (

    select * from {{ ref('stg_regions__regions') }}

),

with_region as (

    select
        incidents.*,
        regions.region_level,
        regions.parent_code
    from incidents
    left join regions
        on incidents.region_code = regions.region_code

),

final as (

    select
        incident_no,
        reported_at,
        reported_month,
        dispatched_at,
        arrived_at,
        category_key,
        region_code,
        case
            when region_level = 'village' then region_code
        end                                                     as village_code,
        case
            when region_level = 'village' then parent_code
            when region_level = 'township' then region_code
        end                                                     as township_code,
        callback_satisfaction,
        batch_id,
        source_ref,
        case
            when category_key is null then 'unknown category code'
            when region_code is null then 'missing region code'
            when region_level is null then 'region code not in the region master'
            when region_level not in ('village', 'township') then 'region code above township level'
        end                                                     as quarantine_reason
    from with_region

)

select * from final
