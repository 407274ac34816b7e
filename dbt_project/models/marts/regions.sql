{#- Every region of the master in force, with a centroid to draw it on a map (issue 18:
    the BI dashboard's map of units). A region's centroid is its own coordinates when
    the master gives them (villages do), else the mean of the coordinates of the
    regions under it that have them, so a town sits among its villages; a region
    with neither has none (centroid_source says which). Not a score: the current
    master, not a published snapshot. Populations are the villages' sums beneath a
    region (int_regions_populated).
    Grain: region_code. -#}
with

regions as (

    select * from {{ ref('stg_regions__regions') }}

),

populated as (

    select * from {{ ref('int_regions_populated') }}

),

ancestors as (

    select * from {{ ref('int_region_ancestors_walked') }}

),

located as (

    select region_code, longitude, latitude
    from regions
    where longitude is not null
        and latitude is not null

),

descendants_averaged as (

    select
        ancestors.ancestor_code                     as region_code,
        avg(located.longitude)                      as longitude,
        avg(located.latitude)                       as latitude,
        count(*)                                    as located_count
    from located
    inner join ancestors
        on located.region_code = ancestors.region_code
    where ancestors.depth > 0
    group by ancestors.ancestor_code

),

final as (

    select
        populated.region_code,
        populated.region_name,
        populated.region_level,
        populated.parent_code,
        populated.resident_population,
        populated.floating_population,
        cast(coalesce(regions.longitude, descendants_averaged.longitude) as numeric(10, 6))
                                                    as longitude,
        cast(coalesce(regions.latitude, descendants_averaged.latitude) as numeric(10, 6))
                                                    as latitude,
        case
            when regions.longitude is not null and regions.latitude is not null then 'master'
            when descendants_averaged.located_count > 0 then 'mean_of_descendants'
            else 'none'
        end                                         as centroid_source,
        coalesce(descendants_averaged.located_count, 0) as located_descendants
    from populated
    inner join regions
        on populated.region_code = regions.region_code
    left join descendants_averaged
        on populated.region_code = descendants_averaged.region_code

)

select * from final
