{#- Every region with its resident and floating population: the sum over the
    villages beneath it (populations live on the lowest level only). -#}
with

regions as (

    select * from {{ ref('stg_regions__regions') }}

),

ancestors as (

    select * from {{ ref('int_region_ancestors_walked') }}

),

summed as (

    select
        ancestors.ancestor_code                     as region_code,
        sum(regions.resident_population)            as resident_population,
        sum(regions.floating_population)            as floating_population
    from ancestors
    inner join regions
        on ancestors.region_code = regions.region_code
    group by ancestors.ancestor_code

),

final as (

    select
        regions.region_code,
        regions.region_name,
        regions.region_level,
        regions.parent_code,
        cast(summed.resident_population as integer) as resident_population,
        cast(summed.floating_population as integer) as floating_population
    from regions
    inner join summed
        on regions.region_code = summed.region_code

)

select * from final
