{#- The region hierarchy as a closure: one row per region and each of its
    ancestors, itself included (depth 0). Rollups join facts to this, so a fact
    placed at a village counts for its town, county, city and province, and a fact
    placed only at a town counts for the town and above but for no village. -#}
with recursive

regions as (

    select * from {{ ref('stg_regions__regions') }}

),

walked as (

    select
        region_code,
        region_level,
        region_code                                 as ancestor_code,
        region_level                                as ancestor_level,
        parent_code                                 as next_code,
        0                                           as depth
    from regions

    union all

    select
        walked.region_code,
        walked.region_level,
        parents.region_code,
        parents.region_level,
        parents.parent_code,
        walked.depth + 1
    from walked
    inner join regions as parents
        on walked.next_code = parents.region_code
    where walked.depth < 10

),

final as (

    select
        region_code,
        region_level,
        ancestor_code,
        ancestor_level,
        depth
    from walked

)

select * from final
