{#- The published index: one row per scheme, month and ranked unit, scored with
    the version valid that month. Comparisons with last month and the same month
    last year are under that same version; when those months were published under
    another version, the comparison is restated and marked so.
    Grain: scheme × month × region. -#}
with

applied as (

    select * from {{ ref('int_scheme_versions_applied') }}

),

ranked as (

    select * from {{ ref('int_scheme_units_ranked') }}

),

versions as (

    select * from {{ ref('stg_schemes__versions') }}

),

regions as (

    select * from {{ ref('int_regions_populated') }}

),

published as (

    select
        ranked.*,
        applied.previous_month_version,
        applied.last_year_version
    from ranked
    inner join applied
        on ranked.scheme_code = applied.scheme_code
        and ranked.scheme_version = applied.scheme_version
        and ranked.month_start = applied.month_start

),

final as (

    select
        published.scheme_code,
        versions.scheme_name,
        cast(published.scheme_version as integer)               as scheme_version,
        versions.total_label,
        published.month_start,
        published.region_code,
        units.region_name,
        units.region_level,
        published.peer_group_code,
        peer_groups.region_name                                 as peer_group_name,
        cast(published.total_score as numeric(6, 2))            as score,
        cast(published.tree_score as numeric(6, 2))             as tree_score,
        cast(published.adjustment_points as numeric(6, 2))      as adjustment_points,
        cast(published.cap_adjustment as numeric(6, 2))         as cap_adjustment,
        published.grade,
        published.grade_colour,
        published.stars,
        published.warning_level,
        published.consecutive_reds,
        published.escalated,
        published.red_run_months,
        published.veto_fired,
        published.rank_in_peer_group,
        published.units_ranked,
        published.previous_rank,
        cast(published.previous_rank - published.rank_in_peer_group as integer) as rank_change,
        cast(published.previous_score as numeric(6, 2))         as previous_score,
        cast(
            case when published.previous_score > 0 then
                round((published.total_score - published.previous_score) * 100.0
                      / published.previous_score, 2)
            end as numeric(8, 2)
        )                                                       as score_change_pct,
        coalesce(
            published.previous_month_version <> published.scheme_version, false
        )                                                       as previous_restated,
        published.last_year_rank,
        cast(published.last_year_score as numeric(6, 2))        as last_year_score,
        coalesce(
            published.last_year_version <> published.scheme_version, false
        )                                                       as last_year_restated
    from published
    inner join versions
        on published.scheme_code = versions.scheme_code
        and published.scheme_version = versions.scheme_version
    inner join regions as units
        on published.region_code = units.region_code
    left join regions as peer_groups
        on published.peer_group_code = peer_groups.region_code

)

select * from final
