{#- The units each scheme version ranks: regions of its ranked level beneath its
    scope region, each with its peer group (the ancestor at the peer level) and
    the population used for normalisation. Grain: scheme × version × region. -#}
with

versions as (

    select * from {{ ref('stg_schemes__versions') }}

),

ancestors as (

    select * from {{ ref('int_region_ancestors_walked') }}

),

regions as (

    select * from {{ ref('int_regions_populated') }}

),

in_scope as (

    select
        versions.scheme_code,
        versions.scheme_version,
        versions.peer_level,
        ancestors.region_code
    from versions
    inner join ancestors
        on versions.scope_code = ancestors.ancestor_code
        and versions.ranked_level = ancestors.region_level

),

with_peer_group as (

    select
        in_scope.scheme_code,
        in_scope.scheme_version,
        in_scope.region_code,
        peers.ancestor_code                         as peer_group_code
    from in_scope
    inner join ancestors as peers
        on in_scope.region_code = peers.region_code
        and in_scope.peer_level = peers.ancestor_level

),

final as (

    select
        with_peer_group.scheme_code,
        with_peer_group.scheme_version,
        with_peer_group.region_code,
        regions.region_name,
        regions.region_level,
        with_peer_group.peer_group_code,
        regions.resident_population,
        regions.floating_population
    from with_peer_group
    inner join regions
        on with_peer_group.region_code = regions.region_code

)

select * from final
