{#- Places every incident at a village and/or township.
    1. By its region code: a village code at the village and its parent town, a
       town code at the town.
    2. Otherwise (no code, a county-level code, a code not in the master) by the
       address text: the longest "town name + village name" contained in the
       address places it at that village; failing that, a town name contained in
       the address places it at that town. Only an unambiguous match counts.
    3. Anything still unplaced, or with an unknown category code, keeps a
       quarantine_reason and is excluded from the metrics.
    Incremental by incident: a run places only the incidents whose latest version was
    loaded since the last build (macro incremental_records_filter), and every incident
    again when a region master was loaded since. -#}
{{ incremental_versions_config('incident_no', on_schema_change='append_new_columns') }}
with

incidents as (

    select * from {{ ref('stg_police__incidents') }}
    {{ incremental_records_filter(
        rebuild_after=[(source('regions', 'master'), '_extracted_at')]
    ) }}

),

regions as (

    select * from {{ ref('stg_regions__regions') }}

),

villages as (

    select
        villages.region_code        as village_code,
        villages.parent_code        as township_code,
        towns.region_name           as parent_name,
        towns.region_name || villages.region_name as full_name,
        villages.longitude,
        villages.latitude
    from regions as villages
    inner join regions as towns
        on villages.parent_code = towns.region_code
    where villages.region_level = 'village'

),

by_code as (

    select
        incidents.*,
        {{ placed_village_code('regions') }} as code_village,
        {{ placed_township_code('regions') }} as code_township
    from incidents
    left join regions
        on incidents.region_code = regions.region_code

),

unplaced as (

    select incident_no, address, longitude, latitude
    from by_code
    where code_township is null

),

village_parents as (

    select distinct township_code, parent_name
    from villages

),

named_regions as materialized (

    {#- Every name an address is searched for: the townships (town_matches) and the
        towns that have villages (parent_hits); a region code has one name.
        Materialized: inlined, the 15,034 regions were filtered again for every
        unplaced address (148 million filter evaluations). -#}
    select region_code, region_name, region_level
    from regions
    where region_level = 'township'
       or region_code in (select township_code from village_parents)

),

name_lengths as (

    select distinct char_length(region_name) as name_length
    from named_regions

),

address_parts as (

    {#- Every substring of an unplaced address as long as some name (a province:
        about 30 an address), so that the names contained in an address are found
        by an equi-join instead of comparing every address with every name (9,859
        unplaced addresses × 1,365 names: 13 million position() calls, 2 s). A name
        is contained in an address exactly when it equals one of these; UTF-8 is
        self-synchronising, so a byte match is a character match. -#}
    select
        unplaced.incident_no,
        unplaced.address,
        substr(unplaced.address, part_start, name_lengths.name_length) as part
    from unplaced
    cross join name_lengths
    cross join lateral generate_series(
        1, char_length(unplaced.address) - name_lengths.name_length + 1
    ) as part_start

),

name_hits as (

    {#- The names of named_regions contained in an unplaced incident's address (once
        per name however often it occurs), searched once for both uses below. The
        address is carried along so that the village search below joins these rows
        alone: joined back to `unplaced`, the planner compared every unplaced
        address with every village (133 million comparisons, 35 s). -#}
    select distinct
        address_parts.incident_no,
        address_parts.address,
        named_regions.region_code,
        named_regions.region_level
    from address_parts
    inner join named_regions
        on address_parts.part = named_regions.region_name

),

parent_hits as (

    {#- The towns named in an unplaced incident's address: a village's full name
        starts with its town's, so only the villages of these towns can match, and
        the address is compared with a town's villages instead of every village of
        the region set (13,825 in a province). -#}
    select
        name_hits.incident_no,
        name_hits.address,
        name_hits.region_code       as township_code
    from name_hits
    where name_hits.region_code in (select township_code from village_parents)

),

village_matches as (

    select
        parent_hits.incident_no,
        villages.village_code,
        villages.township_code,
        count(*) over (partition by parent_hits.incident_no) as candidates
    from parent_hits
    inner join villages
        on parent_hits.township_code = villages.township_code
        and {{ dbt.position('villages.full_name', 'parent_hits.address') }} > 0

),

village_cells as (

    {#- Each village in the 3 × 3 grid cells (0.01° × 0.013°) around its own, so that
        an incident finds the villages within 0.01° / 0.013° of it by an equi-join on
        its cell rather than by comparing it with every village. -#}
    select
        villages.village_code,
        villages.township_code,
        villages.longitude,
        villages.latitude,
        floor(villages.latitude / 0.01) + lat_step.step     as cell_lat,
        floor(villages.longitude / 0.013) + lon_step.step   as cell_lon
    from villages
    cross join (select -1 as step union all select 0 union all select 1) as lat_step
    cross join (select -1 as step union all select 0 union all select 1) as lon_step

),

coordinate_candidates as (

    select
        unplaced.incident_no,
        village_cells.village_code,
        village_cells.township_code,
        power((unplaced.longitude - village_cells.longitude) * cos(radians(unplaced.latitude)), 2)
            + power(unplaced.latitude - village_cells.latitude, 2)   as distance_sq
    from unplaced
    inner join village_cells
        on floor(unplaced.latitude / 0.01) = village_cells.cell_lat
        and floor(unplaced.longitude / 0.013) = village_cells.cell_lon
    where abs(unplaced.latitude - village_cells.latitude) < 0.01
      and abs(unplaced.longitude - village_cells.longitude) < 0.013

),

coordinate_ranked as (

    select
        *,
        row_number() over (
            partition by incident_no order by distance_sq, village_code
        ) as nearness
    from coordinate_candidates

),

coordinate_matches as (

    select incident_no, village_code, township_code
    from coordinate_ranked
    where nearness = 1
      and distance_sq <= 0.005 * 0.005

),

town_matches as (

    select
        name_hits.incident_no,
        name_hits.region_code       as township_code,
        count(*) over (partition by name_hits.incident_no) as candidates
    from name_hits
    where name_hits.region_level = 'township'

),

placed as (

    select
        by_code.*,
        coalesce(village_matches.village_code, coordinate_matches.village_code)
                                                                as fallback_village,
        coalesce(
            village_matches.township_code,
            coordinate_matches.township_code,
            town_matches.township_code
        )                                                       as fallback_township,
        case
            when by_code.code_township is not null then 'region_code'
            when village_matches.village_code is not null then 'address_village'
            when coordinate_matches.village_code is not null then 'coordinates'
            when town_matches.township_code is not null then 'address_town'
        end                                                     as placement_method
    from by_code
    left join village_matches
        on by_code.incident_no = village_matches.incident_no
        and village_matches.candidates = 1
    left join coordinate_matches
        on by_code.incident_no = coordinate_matches.incident_no
    left join town_matches
        on by_code.incident_no = town_matches.incident_no
        and town_matches.candidates = 1

),

final as (

    select
        incident_no,
        reported_at,
        reported_month,
        dispatched_at,
        arrived_at,
        category_key,
        subcategory_code,
        region_code,
        coalesce(code_village, fallback_village)                as village_code,
        coalesce(code_township, fallback_township)              as township_code,
        placement_method,
        callback_satisfaction,
        batch_id,
        source_ref,
        extracted_at,
        case
            when category_key is null then 'unknown category code'
            when placement_method is null and region_code is null
                then 'no region code, no placeable address or coordinates'
            when placement_method is null
                then 'region code ' || region_code
                    || ' not placeable, no placeable address or coordinates'
        end                                                     as quarantine_reason
    from placed

)

select * from final
