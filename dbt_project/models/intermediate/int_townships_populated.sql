with

regions as (

    select * from {{ ref('stg_regions__regions') }}

),

townships as (

    select * from regions
    where region_level = 'township'

),

villages as (

    select * from regions
    where region_level = 'village'

),

village_population as (

    select
        parent_code                 as township_code,
        count(*)                    as village_count,
        sum(resident_population)    as resident_population,
        sum(floating_population)    as floating_population
    from villages
    group by parent_code

),

final as (

    select
        townships.region_code                                   as township_code,
        townships.region_name                                   as township_name,
        townships.parent_code                                   as county_code,
        coalesce(village_population.village_count, 0)           as village_count,
        coalesce(village_population.resident_population, 0)
            + townships.resident_population                     as resident_population,
        coalesce(village_population.floating_population, 0)
            + townships.floating_population                     as floating_population
    from townships
    left join village_population
        on townships.region_code = village_population.township_code

)

select * from final
