with

item_scores as (

    select * from {{ ref('int_index_items_scored') }}

),

townships as (

    select * from {{ ref('int_townships_populated') }}

),

grades as (

    select * from {{ ref('scheme_grades') }}

),

totals as (

    select
        scheme_code,
        scheme_version,
        region_code,
        month_start,
        sum(item_score) as score
    from item_scores
    group by scheme_code, scheme_version, region_code, month_start

),

with_peer_group as (

    select
        totals.*,
        townships.township_name     as region_name,
        townships.county_code       as peer_group_code
    from totals
    inner join townships
        on totals.region_code = townships.township_code

),

graded as (

    select
        with_peer_group.*,
        grades.grade,
        row_number() over (
            partition by with_peer_group.scheme_code, with_peer_group.scheme_version,
                with_peer_group.region_code, with_peer_group.month_start
            order by grades.min_score desc
        ) as band_rank
    from with_peer_group
    inner join grades
        on with_peer_group.scheme_code = grades.scheme_code
        and with_peer_group.scheme_version = grades.scheme_version
        and with_peer_group.score >= grades.min_score

),

ranked as (

    select
        scheme_code,
        scheme_version,
        month_start,
        region_code,
        region_name,
        peer_group_code,
        score,
        grade,
        rank() over (
            partition by scheme_code, month_start, peer_group_code
            order by score desc
        ) as rank_in_peer_group,
        count(*) over (
            partition by scheme_code, month_start, peer_group_code
        ) as units_ranked
    from graded
    where band_rank = 1

),

with_previous as (

    select
        ranked.*,
        previous.rank_in_peer_group     as previous_rank,
        previous.score                  as previous_score
    from ranked
    left join ranked as previous
        on ranked.scheme_code = previous.scheme_code
        and ranked.region_code = previous.region_code
        and ranked.peer_group_code = previous.peer_group_code
        and previous.month_start = cast({{ dbt.dateadd('month', -1, 'ranked.month_start') }} as date)

),

final as (

    select
        scheme_code,
        cast(scheme_version as integer)                 as scheme_version,
        month_start,
        region_code,
        region_name,
        'township'                                      as region_level,
        peer_group_code,
        cast(score as numeric(6, 2))                    as score,
        grade,
        cast(rank_in_peer_group as integer)             as rank_in_peer_group,
        cast(units_ranked as integer)                   as units_ranked,
        cast(previous_rank as integer)                  as previous_rank,
        cast(previous_rank - rank_in_peer_group as integer) as rank_change,
        cast(previous_score as numeric(6, 2))           as previous_score,
        cast(
            case
                when previous_score > 0
                    then round((score - previous_score) * 100.0 / previous_score, 2)
            end as numeric(8, 2)
        )                                               as score_change_pct
    from with_previous

)

select * from final
