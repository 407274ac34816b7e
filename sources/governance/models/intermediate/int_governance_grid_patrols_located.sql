{#- Places every grid patrol at a village and/or township by its region code (the
    shared region_placement macros): a village code at the village and its parent
    town, a town code at the town. The platform records no address or coordinates,
    so anything else (no code, a county- or city-level code, a code not in the
    region master) cannot be placed. A patrol that cannot be placed, has a type code
    the dictionary lacks, or counts that are not whole numbers or rectify more issues
    than were found keeps a quarantine_reason (null = a good row). -#}
with

patrols as (

    select * from {{ ref('stg_governance__grid_patrols') }}

),

regions as (

    select * from {{ ref('stg_regions__regions') }}

),

by_code as (

    select
        patrols.*,
        regions.region_level,
        {{ placed_village_code('regions') }} as village_code,
        {{ placed_township_code('regions') }} as township_code
    from patrols
    left join regions
        on patrols.region_code = regions.region_code

),

checked as (

    select
        *,
        case
            when patrol_type_key is null
                then 'unknown patrol type ' || coalesce(patrol_type_code, '(empty)')
            when issues_found_text is null then 'no issues-found count'
            when issues_found is null
                then 'issues found "' || issues_found_text || '" is not a whole number'
            when issues_rectified_text is null then 'no issues-rectified count'
            when issues_rectified is null
                then 'issues rectified "' || issues_rectified_text || '" is not a whole number'
            when issues_rectified > issues_found
                then 'issues rectified (' || issues_rectified || ') exceed issues found ('
                    || issues_found || ')'
            when region_code is null then 'no region code'
            when region_level is null
                then 'region code ' || region_code || ' not in the region master'
            when township_code is null
                then 'region code ' || region_code || ' is at ' || region_level
                    || ' level, not a village or town'
        end                                     as quarantine_reason
    from by_code

),

final as (

    select
        cast(patrol_no as text)                 as patrol_no,
        patrol_on,
        patrol_month,
        cast(patrol_type_key as text)           as patrol_type_key,
        issues_found,
        issues_rectified,
        cast(region_code as text)               as region_code,
        cast(village_code as text)              as village_code,
        cast(township_code as text)             as township_code,
        cast(
            case when township_code is not null then 'region_code' end as text
        )                                       as placement_method,
        cast(batch_id as text)                  as batch_id,
        cast(source_ref as text)                as source_ref,
        cast(quarantine_reason as text)         as quarantine_reason
    from checked

)

select * from final
